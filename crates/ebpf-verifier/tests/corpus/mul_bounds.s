; what: multiplying a bounded value, then a map offset
; prog: socket_filter
; map: array key=4 value=32 max_entries=1
r6 = *(u32 *)(r1 +0)
r2 = 0
*(u32 *)(r10 -4) = r2
r1 = map[idx:0]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
if r0 == 0 goto +5
r6 &= 3
r6 *= 8
r0 += r6
r0 = *(u64 *)(r0 +0)
exit
r0 = 0
exit
