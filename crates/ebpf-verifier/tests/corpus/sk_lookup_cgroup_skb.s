; what: bpf_sk_lookup_tcp from cgroup_skb
; prog: cgroup_skb
r6 = r1
r2 = 0
*(u64 *)(r10 -16) = r2
*(u32 *)(r10 -8) = r2
r1 = r6
r2 = r10
r2 += -16
r3 = 12
r4 = -1
r5 = 0
call bpf_sk_lookup_tcp#84
if r0 == 0 goto +2
r1 = r0
call bpf_sk_release#86
r0 = 1
exit
