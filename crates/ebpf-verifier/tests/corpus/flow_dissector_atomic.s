; what: an atomic add into flow keys
; prog: flow_dissector
r2 = *(u64 *)(r1 +144)
r3 = 1
lock *(u32 *)(r2 +12) += r3
r0 = 0
exit
