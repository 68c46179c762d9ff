; what: sk_skb programs read and write the packet after a bounds check
; prog: sk_skb
r2 = *(u32 *)(r1 +76)
r3 = *(u32 *)(r1 +80)
r4 = r2
r4 += 8
if r4 > r3 goto +3
r0 = *(u8 *)(r2 +0)
*(u8 *)(r2 +1) = r0
r0 = 0
r0 = 0
exit
