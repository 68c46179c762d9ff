; what: nine nested bpf-to-bpf call frames
; prog: socket_filter
call pc+1
exit
call pc+1
exit
call pc+1
exit
call pc+1
exit
call pc+1
exit
call pc+1
exit
call pc+1
exit
call pc+1
exit
call pc+1
exit
r0 = 0
exit
