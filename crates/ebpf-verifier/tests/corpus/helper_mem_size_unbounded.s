; what: memory argument with an unbounded size
; prog: kprobe
*(u64 *)(r10 -8) = 0
r1 = r10
r1 += -8
r2 = *(u64 *)(r1 +0)
call bpf_trace_printk#6
r0 = 0
exit
