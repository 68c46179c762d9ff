; what: map value used before the NULL check
; prog: socket_filter
; map: array key=4 value=8 max_entries=4
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
r0 = *(u64 *)(r0 +0)
exit
