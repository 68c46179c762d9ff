; what: r10 is read-only
; prog: socket_filter
r10 = 0
r0 = 0
exit
