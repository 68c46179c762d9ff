; what: a read from a map read-only for programs
; prog: socket_filter
; map: array key=4 value=8 max_entries=1 flags=128
r2 = 0
*(u32 *)(r10 -4) = r2
r1 = map[idx:0]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
if r0 == 0 goto +1
r0 = *(u64 *)(r0 +0)
r0 = 0
exit
