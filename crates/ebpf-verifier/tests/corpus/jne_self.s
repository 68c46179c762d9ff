; what: if r1 != r1 never jumps
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
if r0 != r0 goto +1
exit
r0 = *(u64 *)(r10 -8)
exit
