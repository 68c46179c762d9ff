; what: two frames of 300 stack bytes
; prog: socket_filter
*(u64 *)(r10 -304) = 0
call pc+2
r0 = 0
exit
*(u64 *)(r10 -304) = 0
r0 = 0
exit
