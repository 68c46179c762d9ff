; what: LD_ABS needs the context in r6
; prog: socket_filter
r6 = 0
r0 = *(u8 *)skb[0]
exit
