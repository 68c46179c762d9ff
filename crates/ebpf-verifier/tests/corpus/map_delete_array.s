; what: bpf_map_delete_elem on an array
; prog: socket_filter
; map: array key=4 value=8 max_entries=4
r2 = 0
*(u32 *)(r10 -4) = r2
r1 = map[idx:0]
r2 = r10
r2 += -4
call bpf_map_delete_elem#3
r0 = 0
exit
