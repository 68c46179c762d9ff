; what: callee-saved r6 across a bpf-to-bpf call
; prog: socket_filter
r6 = 3
call pc+2
r0 = r6
exit
r0 = 0
exit
