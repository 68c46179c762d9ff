; what: load_acquire from the context
; prog: socket_filter
r0 = load_acquire((u32 *)(r1 +0))
exit
