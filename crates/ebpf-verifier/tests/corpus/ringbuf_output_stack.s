; what: bpf_ringbuf_output of 8 stack bytes
; prog: socket_filter
; map: ringbuf key=0 value=0 max_entries=4096
r1 = 1
*(u64 *)(r10 -8) = r1
r1 = map[idx:0]
r2 = r10
r2 += -8
r3 = 8
r4 = 0
call bpf_ringbuf_output#130
r0 = 0
exit
