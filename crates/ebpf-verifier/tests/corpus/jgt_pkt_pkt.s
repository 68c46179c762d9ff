; what: two packet pointers compared
; prog: xdp
r2 = *(u32 *)(r1 +0)
r3 = r2
r3 += 4
if r3 > r2 goto +1
r0 = 1
r0 = 2
exit
