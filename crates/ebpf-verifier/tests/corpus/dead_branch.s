; what: a branch that cannot be taken is not checked
; prog: socket_filter
r1 = 0
if r1 != 0 goto +2
r0 = 0
exit
r0 = r5
exit
