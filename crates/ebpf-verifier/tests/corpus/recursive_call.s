; what: a function that calls itself
; prog: socket_filter
call pc+1
exit
call pc-1
r0 = 0
exit
