; what: 1-byte read of a 4-byte ctx field
; prog: socket_filter
r0 = *(u8 *)(r1 +0)
exit
