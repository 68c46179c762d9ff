; what: a tracepoint reads its first 8 bytes
; prog: tracepoint
r0 = *(u64 *)(r1 +0)
r0 = 0
exit
