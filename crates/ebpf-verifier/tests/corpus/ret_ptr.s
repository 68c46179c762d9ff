; what: returning a pointer
; prog: socket_filter
r0 = r10
exit
