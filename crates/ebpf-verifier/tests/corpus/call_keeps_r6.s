; what: r6 keeps its value across a call
; prog: socket_filter
r6 = 7
call pc+3
r0 = r6
r0 += -7
exit
r6 = 100
r0 = 0
exit
