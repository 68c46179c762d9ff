; what: a kprobe reads past struct pt_regs
; prog: kprobe
r0 = *(u64 *)(r1 +168)
r0 = 0
exit
