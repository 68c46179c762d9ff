; what: adding a bounded scalar to the frame pointer
; prog: socket_filter
r2 = *(u32 *)(r1 +0)
r2 &= 7
r3 = r10
r3 += -16
r3 += r2
*(u8 *)(r3 +0) = 0
r0 = 0
exit
