; what: a loop counting down to zero
; prog: socket_filter
r1 = 10
r0 = 0
r0 += r1
r1 += -1
if r1 != 0 goto -3
exit
