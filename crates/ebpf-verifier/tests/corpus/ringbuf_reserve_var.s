; what: bpf_ringbuf_reserve with a size that is not a constant
; prog: socket_filter
; map: ringbuf key=0 value=0 max_entries=4096
r2 = *(u32 *)(r1 +0)
r2 &= 63
r1 = map[idx:0]
r3 = 0
call bpf_ringbuf_reserve#131
if r0 == 0 goto +3
r1 = r0
r2 = 0
call bpf_ringbuf_discard#133
r0 = 0
exit
