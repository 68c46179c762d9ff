; what: a function passes the context it was given to a helper
; prog: sched_cls
call pc+2
r0 = 0
exit
call bpf_get_socket_cookie#46
r0 = 0
exit
