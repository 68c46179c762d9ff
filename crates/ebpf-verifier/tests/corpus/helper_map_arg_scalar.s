; what: a scalar where a map pointer is expected
; prog: socket_filter
r1 = 0
r2 = r10
r2 += -8
call bpf_map_lookup_elem#1
r0 = 0
exit
