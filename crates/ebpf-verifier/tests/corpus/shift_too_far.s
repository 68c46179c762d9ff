; what: 64-bit shift by 64
; prog: socket_filter
r0 = 1
r0 <<= 64
exit
