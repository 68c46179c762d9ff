; what: data_meta read before data in XDP
; prog: xdp
r2 = *(u32 *)(r1 +8)
r3 = *(u32 *)(r1 +0)
r4 = r2
r4 += 4
if r4 > r3 goto +1
r0 = *(u32 *)(r2 +0)
r0 = 2
exit
