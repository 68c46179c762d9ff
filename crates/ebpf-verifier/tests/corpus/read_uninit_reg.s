; what: read of a register never written
; prog: socket_filter
r0 = r2
exit
