; what: load_acquire from the stack
; prog: socket_filter
r1 = 7
*(u64 *)(r10 -8) = r1
r0 = load_acquire((u64 *)(r10 -8))
exit
