; what: a bpf_loop callback returning 2
; prog: socket_filter
r1 = 4
r2 = func pc+5
r3 = 0
r4 = 0
call bpf_loop#181
r0 = 0
exit
r0 = 2
exit
