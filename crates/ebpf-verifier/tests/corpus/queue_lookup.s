; what: bpf_map_lookup_elem on a queue
; prog: socket_filter
; map: queue key=0 value=8 max_entries=4
r2 = 0
*(u64 *)(r10 -8) = r2
r1 = map[idx:0]
r2 = r10
r2 += -8
call bpf_map_lookup_elem#1
r0 = 0
exit
