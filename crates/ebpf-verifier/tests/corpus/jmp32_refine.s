; what: a 32-bit comparison bounds the low half
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
if w0 > 10 goto +1
r0 += 1
exit
