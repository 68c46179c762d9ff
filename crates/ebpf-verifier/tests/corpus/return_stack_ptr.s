; what: a function returns a pointer to its own stack
; prog: socket_filter
call pc+2
r0 = 0
exit
r0 = r10
r0 += -8
exit
