; what: bpf_probe_read_kernel with a size that may be negative
; prog: kprobe
r2 = *(u64 *)(r1 +0)
r1 = r10
r1 += -16
r3 = 0
call bpf_probe_read_kernel#113
r0 = 0
exit
