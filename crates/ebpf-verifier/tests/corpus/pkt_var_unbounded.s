; what: a packet pointer plus an unbounded value
; prog: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = *(u64 *)(r10 -8)
r0 = 2
exit
