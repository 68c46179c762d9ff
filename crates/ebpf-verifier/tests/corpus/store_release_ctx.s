; what: store_release into a writable context field
; prog: sched_cls
r2 = 1
store_release((u32 *)(r1 +8), w2)
r0 = 0
exit
