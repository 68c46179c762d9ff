; what: bpf_trace_printk from a non-GPL program
; prog: kprobe
; license: MIT
*(u64 *)(r10 -8) = 0
r1 = r10
r1 += -8
r2 = 8
call bpf_trace_printk#6
r0 = 0
exit
