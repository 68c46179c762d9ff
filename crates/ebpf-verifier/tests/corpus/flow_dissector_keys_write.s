; what: flow_dissector writes nhoff and ip_proto in its keys
; prog: flow_dissector
r2 = *(u64 *)(r1 +144)
r3 = 14
*(u16 *)(r2 +0) = r3
*(u8 *)(r2 +9) = r3
r0 = 0
exit
