; what: flow_dissector reads checked packet bytes
; prog: flow_dissector
r2 = *(u32 *)(r1 +76)
r3 = *(u32 *)(r1 +80)
r4 = r2
r4 += 14
if r4 > r3 goto +1
r0 = *(u16 *)(r2 +12)
r0 = 0
exit
