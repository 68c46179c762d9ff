; what: bpf_perf_event_output into an array map
; prog: kprobe
; map: array key=4 value=8 max_entries=4
r2 = 0
*(u64 *)(r10 -8) = r2
r2 = map[idx:0]
r3 = 0
r4 = r10
r4 += -8
r5 = 8
call bpf_perf_event_output#25
r0 = 0
exit
