; what: bpf_redirect from a socket filter
; prog: socket_filter
r1 = 1
r2 = 0
call bpf_redirect#23
r0 = 0
exit
