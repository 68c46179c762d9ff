; what: bpf_csum_diff with both sizes zero
; prog: sched_cls
r1 = 0
r2 = 0
r3 = 0
r4 = 0
r5 = 0
call bpf_csum_diff#28
r0 = 0
exit
