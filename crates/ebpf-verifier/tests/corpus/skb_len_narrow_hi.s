; what: a 2-byte read of the high half of skb->len
; prog: socket_filter
r0 = *(u16 *)(r1 +2)
exit
