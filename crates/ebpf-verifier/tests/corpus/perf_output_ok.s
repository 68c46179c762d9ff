; what: bpf_perf_event_output of 8 stack bytes
; prog: kprobe
; map: perf_event_array key=4 value=4 max_entries=4
r2 = 0
*(u64 *)(r10 -8) = r2
r2 = map[idx:0]
r3 = 0xffffffff ll
r4 = r10
r4 += -8
r5 = 8
call bpf_perf_event_output#25
r0 = 0
exit
