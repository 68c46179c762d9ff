; what: two nested bounded loops
; prog: socket_filter
r0 = 0
r1 = 0
r2 = 0
r0 += 1
r2 += 1
if r2 < 3 goto -3
r1 += 1
if r1 < 3 goto -6
exit
