; what: bpf_get_stack with a bounded variable size
; prog: kprobe
r6 = r1
r3 = *(u64 *)(r1 +0)
r3 &= 63
r1 = r6
r2 = r10
r2 += -64
r4 = 0
call bpf_get_stack#67
r0 = 0
exit
