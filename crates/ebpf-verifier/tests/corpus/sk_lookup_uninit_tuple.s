; what: bpf_sk_lookup_tcp with an uninitialised tuple
; prog: sched_cls
r2 = r10
r2 += -16
r3 = 12
r4 = -1
r5 = 0
call bpf_sk_lookup_tcp#84
if r0 == 0 goto +2
r1 = r0
call bpf_sk_release#86
r0 = 0
exit
