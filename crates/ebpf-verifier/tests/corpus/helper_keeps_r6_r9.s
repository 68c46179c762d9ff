; what: r6-r9 survive a call
; prog: socket_filter
r6 = r1
call bpf_ktime_get_ns#5
r0 = *(u32 *)(r6 +0)
exit
