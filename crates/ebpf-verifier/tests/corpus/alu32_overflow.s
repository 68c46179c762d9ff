; what: a 32-bit add that may wrap
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
w0 += 0x7fffffff
exit
