; what: a bpf-to-bpf call
; prog: socket_filter
r1 = 5
call pc+2
r0 += 1
exit
r0 = r1
exit
