; what: raw tracepoint argument read
; prog: raw_tracepoint
r0 = *(u64 *)(r1 +0)
r0 = 0
exit
