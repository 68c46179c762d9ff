; what: a NULL check against a register holding 0
; prog: socket_filter
; map: hash key=4 value=8 max_entries=4
r2 = 0
*(u32 *)(r10 -4) = r2
r1 = map[idx:0]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
r1 = 0
if r0 == r1 goto +1
r0 = *(u64 *)(r0 +0)
r0 = 0
exit
