; what: bpf_skb_store_bytes from packet bytes
; prog: sched_cls
r6 = r1
r2 = *(u32 *)(r1 +76)
r3 = *(u32 *)(r1 +80)
r4 = r2
r4 += 8
if r4 > r3 goto +5
r3 = r2
r1 = r6
r2 = 0
r4 = 8
r5 = 0
call bpf_skb_store_bytes#9
r0 = 0
exit
