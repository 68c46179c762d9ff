; what: signed modulo by an unknown register
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
r2 = *(u32 *)(r1 +4)
r0 s%= r2
exit
