; what: the context compared with 0 (both ways are walked)
; prog: socket_filter
if r1 == 0 goto +2
r0 = 0
exit
r0 = *(u64 *)(r10 -8)
exit
