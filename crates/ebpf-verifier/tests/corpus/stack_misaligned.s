; what: misaligned 8-byte stack store
; prog: socket_filter
*(u64 *)(r10 -12) = r1
r0 = 0
exit
