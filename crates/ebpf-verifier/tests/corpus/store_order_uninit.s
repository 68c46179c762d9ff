; what: a store of an uninitialised register through an uninitialised base
; prog: socket_filter
*(u64 *)(r3 +0) = r4
r0 = 0
exit
