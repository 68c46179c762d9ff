; what: lwt_in programs may not write the packet
; prog: lwt_in
r2 = *(u32 *)(r1 +76)
r3 = *(u32 *)(r1 +80)
r4 = r2
r4 += 8
if r4 > r3 goto +1
*(u8 *)(r2 +1) = 1
r0 = 0
exit
