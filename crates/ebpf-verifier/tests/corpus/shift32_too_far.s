; what: 32-bit shift by 32
; prog: socket_filter
w0 = 1
w0 <<= 32
exit
