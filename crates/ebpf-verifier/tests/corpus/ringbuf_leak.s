; what: a reserved sample neither submitted nor discarded
; prog: socket_filter
; map: ringbuf key=0 value=0 max_entries=4096
r1 = map[idx:0]
r2 = 8
r3 = 0
call bpf_ringbuf_reserve#131
r0 = 0
exit
