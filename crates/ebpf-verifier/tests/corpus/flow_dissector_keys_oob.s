; what: flow_dissector reads past struct bpf_flow_keys
; prog: flow_dissector
r2 = *(u64 *)(r1 +144)
r0 = *(u32 *)(r2 +56)
r0 = 0
exit
