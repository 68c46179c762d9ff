; what: packet read after data + 14 <= data_end
; prog: xdp
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r4 = r2
r4 += 14
r0 = 1
if r4 > r3 goto +2
r0 = *(u8 *)(r2 +13)
r0 = 2
exit
