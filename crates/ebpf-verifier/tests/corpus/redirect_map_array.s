; what: bpf_redirect_map with an array map
; prog: xdp
; map: array key=4 value=4 max_entries=4
r1 = map[idx:0]
r2 = 0
r3 = 0
call bpf_redirect_map#51
exit
