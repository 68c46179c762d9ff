; what: if r & 0 never jumps
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
if r0 & 0x0 goto +1
exit
r0 = *(u64 *)(r10 -8)
exit
