; what: spill ctx to the stack and fill it back
; prog: socket_filter
*(u64 *)(r10 -8) = r1
r2 = *(u64 *)(r10 -8)
r0 = *(u32 *)(r2 +0)
exit
