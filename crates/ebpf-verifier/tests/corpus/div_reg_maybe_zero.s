; what: division by a register that may be zero
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
r1 = *(u32 *)(r1 +4)
r0 /= r1
exit
