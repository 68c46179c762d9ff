; what: 32-bit arithmetic on the context pointer
; prog: socket_filter
w1 += 1
r0 = 0
exit
