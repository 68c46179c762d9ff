; what: a read of never-written stack (privileged)
; prog: socket_filter
r0 = *(u64 *)(r10 -16)
r0 = 0
exit
