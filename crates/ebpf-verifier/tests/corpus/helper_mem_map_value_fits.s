; what: a helper writes exactly the map value
; prog: socket_filter
; map: array key=4 value=8 max_entries=4
r6 = r1
*(u32 *)(r10 -4) = 0
r2 = r10
r2 += -4
r1 = map[idx:0]
call bpf_map_lookup_elem#1
if r0 == 0 goto +5
r1 = r6
r2 = 0
r3 = r0
r4 = 8
call bpf_skb_load_bytes#26
r0 = 0
exit
