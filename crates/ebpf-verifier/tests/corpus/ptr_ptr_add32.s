; what: a 32-bit add of two pointers
; prog: socket_filter
r2 = r10
w1 += w2
r0 = 0
exit
