; what: r ^= r is zero
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
r0 ^= r0
exit
