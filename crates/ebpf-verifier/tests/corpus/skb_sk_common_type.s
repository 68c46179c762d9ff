; what: skb->sk is a sock_common: bpf_sock->type is out of reach
; prog: sched_cls
r1 = *(u64 *)(r1 +168)
if r1 == 0 goto +1
r0 = *(u32 *)(r1 +8)
r0 = 0
exit
