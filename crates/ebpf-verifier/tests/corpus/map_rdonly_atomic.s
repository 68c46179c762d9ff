; what: an atomic add into a read-only map
; prog: socket_filter
; map: array key=4 value=8 max_entries=1 flags=128
r2 = 0
*(u32 *)(r10 -4) = r2
r1 = map[idx:0]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
if r0 == 0 goto +2
r1 = 1
lock *(u64 *)(r0 +0) += r1
r0 = 0
exit
