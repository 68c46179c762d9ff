; what: read of stack never written
; prog: socket_filter
r0 = *(u64 *)(r10 -8)
exit
