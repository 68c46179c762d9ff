; what: a caller with 8 bytes of stack calls a function with 512
; prog: socket_filter
r1 = 0
*(u64 *)(r10 -8) = r1
call pc+2
r0 = 0
exit
r1 = 0
*(u64 *)(r10 -512) = r1
r0 = 0
exit
