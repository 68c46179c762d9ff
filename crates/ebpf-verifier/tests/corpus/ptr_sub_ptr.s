; what: subtracting two stack pointers gives a scalar
; prog: socket_filter
r1 = r10
r2 = r10
r2 += -8
r1 -= r2
r0 = r1
exit
