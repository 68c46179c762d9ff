; what: store below the 512-byte frame
; prog: socket_filter
*(u64 *)(r10 -520) = r1
r0 = 0
exit
