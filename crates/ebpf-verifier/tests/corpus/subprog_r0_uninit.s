; what: a function returns without setting r0
; prog: socket_filter
call pc+2
r0 = 0
exit
r1 = 1
exit
