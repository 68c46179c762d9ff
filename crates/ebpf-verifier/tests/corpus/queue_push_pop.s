; what: queue push then pop
; prog: socket_filter
; map: queue key=0 value=8 max_entries=4
r2 = 5
*(u64 *)(r10 -8) = r2
r1 = map[idx:0]
r2 = r10
r2 += -8
r3 = 0
call bpf_map_push_elem#87
r1 = map[idx:0]
r2 = r10
r2 += -16
call bpf_map_pop_elem#88
r0 = *(u64 *)(r10 -16)
exit
