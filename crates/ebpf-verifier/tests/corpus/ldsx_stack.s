; what: a sign-extending byte load from the stack bounds the value
; prog: socket_filter
*(u8 *)(r10 -1) = 200
r0 = *(s8 *)(r10 -1)
r0 += 128
exit
