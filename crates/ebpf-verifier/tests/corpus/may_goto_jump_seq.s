; what: a loop whose may_goto queues a state per iteration exceeds the 8192 pending jumps
; prog: xdp
r2 = 0
r3 = *(u32 *)(r1 +4)
r1 = *(u32 *)(r1 +0)
goto pc+3
if r1 > r3 goto pc+5
r4 = *(u8 *)(r1 -1)
r2 += r4
r1 += 1
may_goto pc-5
goto pc-6
r2 &= 1
w0 = 1
if r2 == 0x0 goto pc+1
w0 = 2
exit
