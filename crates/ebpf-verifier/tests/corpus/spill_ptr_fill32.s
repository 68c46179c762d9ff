; what: a spilled pointer filled as 4 bytes
; prog: socket_filter
*(u64 *)(r10 -8) = r1
r0 = *(u32 *)(r10 -8)
r0 = 0
exit
