; what: map update with key and value on the stack
; prog: socket_filter
; map: hash key=4 value=8 max_entries=16
*(u32 *)(r10 -4) = 1
*(u64 *)(r10 -16) = 7
r2 = r10
r2 += -4
r3 = r10
r3 += -16
r1 = map[idx:0]
r4 = 0
call bpf_map_update_elem#2
r0 = 0
exit
