; what: a function reads its caller's uninitialised stack
; prog: socket_filter
r1 = r10
r1 += -8
call pc+1
exit
r0 = *(u64 *)(r1 +0)
exit
