; what: packet write after a check
; prog: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 1
if r4 > r3 goto +1
*(u8 *)(r2 +0) = 0
r0 = 2
exit
