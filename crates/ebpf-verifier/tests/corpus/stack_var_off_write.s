; what: a write to the stack at a bounded variable offset
; prog: socket_filter
r1 = *(u32 *)(r1 +0)
r1 &= 8
r2 = r10
r2 += -16
r2 += r1
r3 = 1
*(u64 *)(r2 +0) = r3
r0 = 0
exit
