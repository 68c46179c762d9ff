; what: XDP programs have no LD_ABS
; prog: xdp
r6 = r1
r0 = *(u8 *)skb[0]
exit
