; what: a read before the packet start
; prog: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 8
if r4 > r3 goto +1
r0 = *(u8 *)(r2 -1)
r0 = 2
exit
