; what: a 32-bit copy of a pointer
; prog: socket_filter
w0 = w10
exit
