; what: a loop of 8 iterations counted in a register
; prog: socket_filter
r0 = 0
r1 = 0
r0 += r1
r1 += 1
if r1 < 8 goto -3
exit
