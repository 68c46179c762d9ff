; what: signed bounds from a signed comparison
; prog: socket_filter
r0 = *(u64 *)(r1 +0)
r0 = 0
exit
