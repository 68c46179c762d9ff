; what: a function reads its caller's initialised stack
; prog: socket_filter
r1 = 5
*(u64 *)(r10 -8) = r1
r1 = r10
r1 += -8
call pc+1
exit
r0 = *(u64 *)(r1 +0)
exit
