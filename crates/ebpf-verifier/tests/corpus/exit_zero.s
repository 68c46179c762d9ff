; what: the smallest valid program
; prog: socket_filter
r0 = 0
exit
