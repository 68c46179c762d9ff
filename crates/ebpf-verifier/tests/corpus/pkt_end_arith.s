; what: arithmetic on data_end
; prog: xdp
r3 = *(u32 *)(r1 +4)
r3 += -4
r0 = 2
exit
