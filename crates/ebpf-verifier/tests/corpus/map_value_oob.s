; what: map value read past value_size
; prog: socket_filter
; map: array key=4 value=8 max_entries=4
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0 goto +1
r0 = *(u64 *)(r0 +8)
exit
