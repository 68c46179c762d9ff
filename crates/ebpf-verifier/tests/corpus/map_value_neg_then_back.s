; what: a map value pointer moved before the value, then back
; prog: socket_filter
; map: array key=4 value=16 max_entries=1
r2 = 0
*(u32 *)(r10 -4) = r2
r1 = map[idx:0]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
if r0 == 0 goto +3
r0 += -8
r0 += 8
r0 = *(u64 *)(r0 +0)
exit
