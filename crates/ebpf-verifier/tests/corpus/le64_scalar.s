; what: le64 of a bounded scalar
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
r0 = le64 r0
exit
