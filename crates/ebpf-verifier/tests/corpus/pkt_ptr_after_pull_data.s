; what: a packet pointer used after a helper that may move the packet
; prog: sched_cls
r6 = r1
r2 = *(u32 *)(r1 +76)
r3 = *(u32 *)(r1 +80)
r4 = r2
r4 += 14
if r4 > r3 goto +5
r7 = r2
r1 = r6
r2 = 0
call bpf_skb_pull_data#39
r0 = *(u8 *)(r7 +0)
r0 = 0
exit
