; what: raw_tracepoint reads args[] far away
; prog: raw_tracepoint
r0 = *(u64 *)(r1 +4096)
r0 = 0
exit
