; what: the frame pointer stored as a value
; prog: socket_filter
*(u64 *)(r10 -8) = r10
r0 = 0
exit
