; what: a branch on a callee's return value: precision is followed back through its exit and call
; prog: socket_filter
r1 = *(u32 *)(r1 +0)
call pc+4
if r0 > 0x7 goto pc+1
r0 = 1
r0 = 0
exit
r0 = r1
r0 &= 3
exit
