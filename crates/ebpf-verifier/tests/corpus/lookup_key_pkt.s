; what: a packet pointer as the map key
; prog: xdp
; map: hash key=4 value=8 max_entries=4
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 4
if r4 > r3 goto +3
r1 = map[idx:0]
call bpf_map_lookup_elem#1
r0 = 2
exit
