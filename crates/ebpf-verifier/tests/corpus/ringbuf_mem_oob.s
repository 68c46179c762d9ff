; what: a write past a reserved ring buffer sample
; prog: socket_filter
; map: ringbuf key=0 value=0 max_entries=4096
r1 = map[idx:0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0 goto +4
*(u64 *)(r0 +4) = 1
r1 = r0
r2 = 0
call bpf_ringbuf_discard#133
r0 = 0
exit
