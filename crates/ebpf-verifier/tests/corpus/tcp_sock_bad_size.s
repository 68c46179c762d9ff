; what: a 2-byte read of bpf_tcp_sock->snd_cwnd
; prog: sched_cls
r1 = *(u64 *)(r1 +168)
if r1 == 0 goto +3
call bpf_tcp_sock#96
if r0 == 0 goto +1
r0 = *(u16 *)(r0 +0)
r0 = 0
exit
