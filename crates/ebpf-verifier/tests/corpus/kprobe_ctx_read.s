; what: pt_regs read in a kprobe
; prog: kprobe
r0 = *(u64 *)(r1 +0)
r0 = 0
exit
