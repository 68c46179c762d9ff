; what: atomic on the context
; prog: sched_cls
r2 = 1
lock *(u32 *)(r1 +8) += r2
r0 = 0
exit
