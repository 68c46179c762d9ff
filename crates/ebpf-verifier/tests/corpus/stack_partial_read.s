; what: read 8 bytes of which 4 were written
; prog: socket_filter
*(u32 *)(r10 -8) = 1
r0 = *(u64 *)(r10 -8)
exit
