; what: shift by a bounded register
; prog: socket_filter
r1 = *(u32 *)(r1 +0)
r1 &= 63
r0 = 1
r0 <<= r1
r0 = 0
exit
