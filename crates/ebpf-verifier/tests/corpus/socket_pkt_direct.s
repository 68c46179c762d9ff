; what: socket filters have no direct packet access
; prog: socket_filter
r2 = *(u32 *)(r1 +76)
r0 = 0
exit
