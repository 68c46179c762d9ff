; what: packet read without a data_end check
; prog: xdp
r2 = *(u32 *)(r1 +0)
r0 = *(u8 *)(r2 +0)
exit
