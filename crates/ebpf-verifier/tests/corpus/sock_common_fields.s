; what: skb->sk fields a sock_common has: ports, addresses, state
; prog: sched_cls
r1 = *(u64 *)(r1 +168)
if r1 == 0 goto +6
r2 = *(u16 *)(r1 +48)
r3 = *(u8 *)(r1 +43)
r4 = *(u32 *)(r1 +72)
r5 = *(u32 *)(r1 +0)
r6 = *(u32 *)(r1 +4)
r7 = *(u64 *)(r1 +0)
r0 = 0
exit
