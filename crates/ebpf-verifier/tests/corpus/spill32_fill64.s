; what: a 4-byte spill of a constant filled as 8 bytes
; prog: socket_filter
r1 = 5
*(u32 *)(r10 -8) = r1
r0 = *(u64 *)(r10 -8)
exit
