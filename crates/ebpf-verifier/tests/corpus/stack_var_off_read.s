; what: a read from the stack at a bounded variable offset
; prog: socket_filter
r2 = 0
*(u64 *)(r10 -8) = r2
*(u64 *)(r10 -16) = r2
r1 = *(u32 *)(r1 +0)
r1 &= 8
r2 = r10
r2 += -16
r2 += r1
r0 = *(u64 *)(r2 +0)
exit
