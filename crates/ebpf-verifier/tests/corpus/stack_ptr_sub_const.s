; what: subtracting a constant from a frame pointer copy
; prog: socket_filter
r1 = r10
r1 -= 8
r0 = *(u64 *)(r1 +0)
r0 = 0
exit
