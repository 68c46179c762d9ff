; what: an 8-byte spill of a constant filled as its low 4 bytes
; prog: socket_filter
r1 = 5
*(u64 *)(r10 -8) = r1
r0 = *(u32 *)(r10 -8)
exit
