; what: a loop whose counter lives on the stack
; prog: socket_filter
r1 = 0
*(u64 *)(r10 -8) = r1
r1 = *(u64 *)(r10 -8)
r1 += 1
*(u64 *)(r10 -8) = r1
if r1 < 6 goto -4
r0 = 0
exit
