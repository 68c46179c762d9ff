; what: division by a register known to be 0 (defined as 0)
; prog: socket_filter
r0 = 7
r1 = 0
r0 /= r1
exit
