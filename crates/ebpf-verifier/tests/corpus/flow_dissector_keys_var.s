; what: flow_keys moved by a variable
; prog: flow_dissector
r2 = *(u64 *)(r1 +144)
r3 = *(u32 *)(r1 +76)
r3 &= 7
r2 += r3
r0 = 0
exit
