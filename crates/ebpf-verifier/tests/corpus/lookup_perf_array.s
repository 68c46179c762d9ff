; what: bpf_map_lookup_elem on a perf event array
; prog: socket_filter
; map: perf_event_array key=4 value=4 max_entries=4
r2 = 0
*(u32 *)(r10 -4) = r2
r1 = map[idx:0]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
r0 = 0
exit
