; what: division by the immediate 0
; prog: socket_filter
r0 = 7
r0 /= 0
exit
