; what: flow_keys moved by a constant, then read
; prog: flow_dissector
r2 = *(u64 *)(r1 +144)
r2 += 8
r0 = *(u32 *)(r2 +0)
r0 = 0
exit
