; what: be32 of a constant
; prog: socket_filter
r0 = 0x12345678 ll
r0 = be32 r0
exit
