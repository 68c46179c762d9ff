; what: a packet pointer moved by a bounded variable, then checked against the end
; prog: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r5 = r2
r5 += 1
if r5 > r3 goto +8
r4 = *(u8 *)(r2 +0)
r4 &= 15
r2 += r4
r5 = r2
r5 += 4
if r5 > r3 goto +1
r0 = *(u32 *)(r2 +0)
r0 = 2
exit
