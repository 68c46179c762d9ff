; what: sign-extending move of a byte
; prog: socket_filter
r1 = *(u32 *)(r1 +0)
r1 &= 255
r0 = (s8)r1
r0 += 128
exit
