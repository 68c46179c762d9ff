; what: a ring buffer sample submitted twice
; prog: socket_filter
; map: ringbuf key=0 value=0 max_entries=4096
r1 = map[idx:0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0 goto +6
r6 = r0
r1 = r0
r2 = 0
call bpf_ringbuf_submit#132
r1 = r6
call bpf_ringbuf_submit#132
r0 = 0
exit
