; what: sk_skb writes skb->mark
; prog: sk_skb
r2 = 1
*(u32 *)(r1 +8) = r2
r0 = 1
exit
