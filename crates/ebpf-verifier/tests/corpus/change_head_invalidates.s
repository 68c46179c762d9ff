; what: bpf_skb_change_head, then an old packet pointer
; prog: sched_cls
r6 = r1
r7 = *(u32 *)(r1 +76)
r8 = *(u32 *)(r1 +80)
r2 = 14
r3 = 0
call bpf_skb_change_head#43
r0 = *(u8 *)(r7 +0)
r0 = 0
exit
