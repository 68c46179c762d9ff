; what: flow_dissector reads through skb->flow_keys
; prog: flow_dissector
r2 = *(u64 *)(r1 +144)
r0 = *(u16 *)(r2 +0)
r0 = 0
exit
