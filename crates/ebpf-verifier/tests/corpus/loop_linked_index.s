; what: a loop whose index is checked through a copy plus one
; prog: socket_filter
; map: array key=4 value=16 max_entries=1
r2 = 0
*(u32 *)(r10 -4) = r2
r1 = map[idx:0]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
if r0 == 0 goto +9
r6 = 0
r7 = r6
r7 += 1
if r7 > 15 goto +5
r1 = r0
r1 += r6
r2 = *(u8 *)(r1 +0)
r6 = r7
goto -8
r0 = 0
exit
