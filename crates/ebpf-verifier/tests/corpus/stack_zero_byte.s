; what: a zero byte stored, read back as a byte
; prog: socket_filter
r1 = 0
*(u8 *)(r10 -3) = r1
r0 = *(u8 *)(r10 -3)
exit
