; what: perf_event reads sample_period
; prog: perf_event
r0 = *(u64 *)(r1 +168)
r0 = 0
exit
