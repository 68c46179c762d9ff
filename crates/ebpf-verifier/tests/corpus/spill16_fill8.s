; what: a 2-byte spill filled as its low byte
; prog: socket_filter
r1 = *(u32 *)(r1 +0)
r1 &= 0x1ff
*(u16 *)(r10 -8) = r1
r0 = *(u8 *)(r10 -8)
exit
