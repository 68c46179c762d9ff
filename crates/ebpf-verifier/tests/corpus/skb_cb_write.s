; what: a socket filter writes skb->cb[0]
; prog: socket_filter
r2 = 7
*(u32 *)(r1 +48) = r2
r0 = 0
exit
