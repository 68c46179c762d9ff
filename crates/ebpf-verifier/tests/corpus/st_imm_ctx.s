; what: BPF_ST (an immediate store) into the context
; prog: sched_cls
*(u32 *)(r1 +8) = 1
r0 = 0
exit
