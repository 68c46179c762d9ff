; what: bpf_skb_ecn_set_ce from cgroup_skb
; prog: cgroup_skb
call bpf_skb_ecn_set_ce#97
r0 = 1
exit
