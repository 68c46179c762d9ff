; what: a 32-bit subtraction from a pointer
; prog: socket_filter
w1 -= 4
r0 = 0
exit
