; what: signed modulo by -1 of a bounded value
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
r0 s%= -1
exit
