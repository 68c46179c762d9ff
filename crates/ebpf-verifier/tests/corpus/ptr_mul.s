; what: multiplying a pointer
; prog: socket_filter
r1 *= 2
r0 = 0
exit
