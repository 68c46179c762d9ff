; what: a loop of 100000 iterations (instruction limit)
; prog: socket_filter
r1 = 0
r1 += 1
if r1 < 100000 goto -2
r0 = 0
exit
