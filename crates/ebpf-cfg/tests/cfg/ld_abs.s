; legacy packet loads leave the program when the packet is too short:
; an abnormal-return edge to the last exit
    r6 = r1
    r0 = *(u16 *)skb[12]
    if r0 != 0x800 goto drop
    r0 = *(u8 *)skb[23]
    exit
drop:
    r0 = 0
    exit
