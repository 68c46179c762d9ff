; what: bounded variable offset into a map value
; prog: socket_filter
; map: array key=4 value=64 max_entries=4
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0 goto +5
r1 = *(u64 *)(r0 +0)
r1 &= 7
r1 <<= 3
r0 += r1
r0 = *(u64 *)(r0 +0)
exit
