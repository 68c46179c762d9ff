; what: combined stack over 512 bytes in a kprobe (private stacks)
; prog: kprobe
r1 = 0
*(u64 *)(r10 -256) = r1
call pc+2
r0 = 0
exit
r1 = 0
*(u64 *)(r10 -512) = r1
r0 = 0
exit
