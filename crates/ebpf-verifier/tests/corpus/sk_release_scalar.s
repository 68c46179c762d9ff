; what: bpf_sk_release of a number
; prog: sched_cls
r1 = 0
call bpf_sk_release#86
r0 = 0
exit
