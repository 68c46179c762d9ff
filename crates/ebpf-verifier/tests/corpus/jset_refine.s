; what: if (x & 8) refines the known bits
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
r0 &= 12
if r0 & 0x8 goto +1
r0 += 1
exit
