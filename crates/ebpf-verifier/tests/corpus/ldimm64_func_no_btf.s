; what: a function's address (a bpf_loop callback) without BTF func_info
; prog: socket_filter
r1 = 4
r2 = func pc+6
r3 = 0
r4 = 0
call 181
r0 = 0
exit
r0 = 0
exit
