; what: store at or above r10
; prog: socket_filter
*(u64 *)(r10 +0) = r1
r0 = 0
exit
