; what: a packet pointer moved by 0x10000
; prog: xdp
r2 = *(u32 *)(r1 +0)
r2 += 0x10000
r0 = 2
exit
