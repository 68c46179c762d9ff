; what: cgroup_skb must return 0 or 1
; prog: cgroup_skb
r0 = 5
exit
