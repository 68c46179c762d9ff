; what: bpf_get_listener_sock of skb->sk
; prog: cgroup_skb
r1 = *(u64 *)(r1 +168)
if r1 == 0 goto +4
call bpf_get_listener_sock#98
if r0 == 0 goto +2
r2 = *(u32 *)(r0 +72)
r3 = *(u16 *)(r0 +44)
r0 = 1
exit
