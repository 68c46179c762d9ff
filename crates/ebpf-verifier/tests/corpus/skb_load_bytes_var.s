; what: bpf_skb_load_bytes with a bounded variable length
; prog: sched_cls
r2 = *(u32 *)(r1 +0)
r2 &= 15
r2 += 1
r4 = r2
r2 = 0
r3 = r10
r3 += -16
call bpf_skb_load_bytes#26
r0 = 0
exit
