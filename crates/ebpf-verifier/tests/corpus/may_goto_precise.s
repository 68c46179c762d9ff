; what: a may_goto loop indexing the stack by a counter it bounds
; prog: socket_filter
r1 = 0
*(u64 *)(r10 -8) = r1
*(u64 *)(r10 -16) = r1
r0 = 0
may_goto pc+7
r1 += 1
r1 &= 1
r2 = r10
r2 += -16
r3 = r1
r3 <<= 3
goto pc-8
r0 = 0
exit
