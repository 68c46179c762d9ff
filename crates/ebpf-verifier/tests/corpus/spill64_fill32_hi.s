; what: an 8-byte spill of a bounded scalar filled as its high 4 bytes
; prog: socket_filter
r1 = *(u32 *)(r1 +0)
*(u64 *)(r10 -8) = r1
r0 = *(u32 *)(r10 -4)
exit
