; what: half of a spilled pointer overwritten, then filled as 8 bytes
; prog: socket_filter
*(u64 *)(r10 -8) = r1
r2 = 0
*(u32 *)(r10 -8) = r2
r0 = *(u64 *)(r10 -8)
r0 = 0
exit
