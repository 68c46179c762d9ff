; what: cgroup_skb returning an unknown value
; prog: cgroup_skb
r0 = *(u32 *)(r1 +0)
exit
