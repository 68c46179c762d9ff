; what: bpf_get_local_storage of an array map
; prog: cgroup_skb
; map: array key=4 value=8 max_entries=1
r1 = map[idx:0]
r2 = 0
call bpf_get_local_storage#81
r0 = 1
exit
