; what: bpf_perf_event_data read
; prog: perf_event
r0 = *(u64 *)(r1 +0)
r0 = 0
exit
