; what: an index bounded by a comparison
; prog: socket_filter
; map: array key=4 value=32 max_entries=1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0 goto +6
r1 = *(u64 *)(r0 +0)
if r1 > 3 goto +4
r1 <<= 3
r0 += r1
r0 = *(u64 *)(r0 +0)
exit
r0 = 0
exit
