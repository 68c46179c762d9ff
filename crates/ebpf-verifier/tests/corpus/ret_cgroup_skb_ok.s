; what: cgroup_skb returning 1
; prog: cgroup_skb
r0 = 1
exit
