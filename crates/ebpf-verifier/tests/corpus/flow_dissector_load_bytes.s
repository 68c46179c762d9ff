; what: bpf_skb_load_bytes from a flow dissector
; prog: flow_dissector
r2 = 0
r3 = r10
r3 += -8
r4 = 8
call bpf_skb_load_bytes#26
r0 = 0
exit
