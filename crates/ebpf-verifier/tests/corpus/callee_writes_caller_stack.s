; what: a function writes its caller's stack through a pointer
; prog: socket_filter
r1 = r10
r1 += -8
call pc+2
r0 = *(u64 *)(r10 -8)
exit
r2 = 3
*(u64 *)(r1 +0) = r2
r0 = 0
exit
