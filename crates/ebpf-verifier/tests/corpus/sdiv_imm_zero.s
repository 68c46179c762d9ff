; what: signed division by the constant 0
; prog: socket_filter
r0 = 5
r0 s/= 0
exit
