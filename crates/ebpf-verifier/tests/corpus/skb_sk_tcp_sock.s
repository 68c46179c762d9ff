; what: skb->sk, bpf_sk_fullsock, bpf_tcp_sock, tcp_sock fields
; prog: cgroup_skb
r1 = *(u64 *)(r1 +168)
if r1 == 0 goto +8
call bpf_sk_fullsock#95
if r0 == 0 goto +6
r6 = *(u32 *)(r0 +72)
r1 = r0
call bpf_tcp_sock#96
if r0 == 0 goto +2
r2 = *(u32 *)(r0 +0)
r3 = *(u64 *)(r0 +80)
r0 = 1
exit
