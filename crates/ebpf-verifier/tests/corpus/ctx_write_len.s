; what: store to a read-only ctx field
; prog: socket_filter
*(u32 *)(r1 +0) = 1
r0 = 0
exit
