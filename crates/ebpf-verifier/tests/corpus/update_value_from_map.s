; what: a map value used as the value to store in another element
; prog: socket_filter
; map: hash key=4 value=8 max_entries=4
r2 = 0
*(u32 *)(r10 -4) = r2
r1 = map[idx:0]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
if r0 == 0 goto +6
r3 = r0
r1 = map[idx:0]
r2 = r10
r2 += -4
r4 = 0
call bpf_map_update_elem#2
r0 = 0
exit
