; what: a 64-bit constant
; prog: socket_filter
r0 = 0x123456789 ll
r0 >>= 32
exit
