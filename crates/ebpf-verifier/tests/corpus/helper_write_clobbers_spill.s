; what: a helper that writes the stack destroys a spilled pointer there
; prog: socket_filter
r2 = r10
r2 += -16
*(u64 *)(r10 -8) = r2
r2 = 0
r3 = r10
r3 += -8
r4 = 8
call bpf_skb_load_bytes#26
r1 = *(u64 *)(r10 -8)
r0 = *(u64 *)(r1 +0)
r0 = 0
exit
