; what: bpf_sk_release of skb->sk, which holds no reference
; prog: sched_cls
r1 = *(u64 *)(r1 +168)
if r1 == 0 goto +1
call bpf_sk_release#86
r0 = 0
exit
