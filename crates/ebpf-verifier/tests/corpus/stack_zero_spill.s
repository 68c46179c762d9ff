; what: constant zero stored and read back
; prog: socket_filter
r1 = 0
*(u64 *)(r10 -8) = r1
r0 = *(u64 *)(r10 -8)
exit
