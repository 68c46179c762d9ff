; what: dereferencing data_end
; prog: xdp
r3 = *(u32 *)(r1 +4)
r0 = *(u8 *)(r3 +0)
exit
