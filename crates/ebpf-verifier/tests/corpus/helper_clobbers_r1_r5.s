; what: r1-r5 are not readable after a call
; prog: socket_filter
call bpf_ktime_get_ns#5
r0 = r1
exit
