; what: bpf_sk_release of a listener socket, which holds no reference
; prog: sched_cls
r1 = *(u64 *)(r1 +168)
if r1 == 0 goto +3
call bpf_get_listener_sock#98
if r0 == 0 goto +1
r1 = r0
call bpf_sk_release#86
r0 = 0
exit
