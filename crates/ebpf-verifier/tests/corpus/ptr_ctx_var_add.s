; what: adding an unknown scalar to ctx
; prog: socket_filter
r2 = *(u32 *)(r1 +0)
r1 += r2
r0 = 0
exit
