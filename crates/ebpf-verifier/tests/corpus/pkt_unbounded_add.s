; what: a packet pointer plus an unbounded register
; prog: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u64 *)(r10 -8)
r2 += r3
r0 = 2
exit
