; what: packet pointers loaded again after a helper that may move the packet
; prog: sched_cls
r6 = r1
r1 = r6
r2 = 14
call bpf_skb_pull_data#39
r2 = *(u32 *)(r6 +76)
r3 = *(u32 *)(r6 +80)
r4 = r2
r4 += 14
if r4 > r3 goto +1
r0 = *(u8 *)(r2 +13)
r0 = 0
exit
