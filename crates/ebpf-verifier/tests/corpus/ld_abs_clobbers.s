; what: LD_ABS clobbers r1-r5 like a call
; prog: socket_filter
r6 = r1
r2 = 7
r0 = *(u8 *)skb[0]
r0 = r2
exit
