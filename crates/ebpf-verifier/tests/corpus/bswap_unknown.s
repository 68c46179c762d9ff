; what: byte swaps of a partly known value keep what they can
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
r0 &= 0xff0f
r2 = r0
r2 = be16 r2
r3 = r0
r3 = le16 r3
r4 = r0
r4 = be32 r4
r5 = r0
r5 = bswap64 r5
r0 = 0
exit
