; what: the frame pointer plus an unbounded scalar
; prog: socket_filter
r2 = *(u32 *)(r1 +0)
r1 = r10
r1 += r2
r0 = 0
exit
