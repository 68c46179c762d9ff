; what: data_meta read without a check against data
; prog: xdp
r2 = *(u32 *)(r1 +8)
r0 = *(u32 *)(r2 +0)
r0 = 2
exit
