; what: a read at a variable stack offset over zeroed bytes reads 0
; prog: socket_filter
r2 = 0
*(u32 *)(r10 -4) = r2
*(u32 *)(r10 -8) = r2
*(u32 *)(r10 -12) = r2
*(u32 *)(r10 -16) = r2
r1 = *(u32 *)(r1 +0)
r1 &= 8
r2 = r10
r2 += -16
r2 += r1
r0 = *(u64 *)(r2 +0)
exit
