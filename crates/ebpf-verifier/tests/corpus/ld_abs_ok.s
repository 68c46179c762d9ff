; what: classic packet loads through the skb in r6
; prog: socket_filter
r6 = r1
r0 = *(u16 *)skb[12]
if r0 != 0x800 goto +2
r0 = *(u8 *)skb[23]
r0 = *(u32 *)skb[r0 + 14]
exit
