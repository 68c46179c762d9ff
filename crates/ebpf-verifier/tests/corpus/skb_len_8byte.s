; what: an 8-byte read of the 4-byte skb->len
; prog: socket_filter
r0 = *(u64 *)(r1 +0)
exit
