; what: a packet pointer plus a value up to 0xffff, then checked
; prog: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = *(u32 *)(r1 +12)
r4 &= 0xffff
r2 += r4
r5 = r2
r5 += 1
if r5 > r3 goto +1
r0 = *(u8 *)(r2 +0)
r0 = 2
exit
