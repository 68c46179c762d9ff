; what: if r1 == r2 with r2 a constant in a register
; prog: socket_filter
r1 = *(u32 *)(r1 +0)
r2 = 5
if r1 == r2 goto +2
r0 = 0
exit
r0 = r1
r0 += -5
exit
