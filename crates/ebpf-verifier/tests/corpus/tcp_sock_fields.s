; what: bpf_tcp_sock fields: 8-byte counters, the last field, one past it
; prog: sched_cls
r1 = *(u64 *)(r1 +168)
if r1 == 0 goto +5
call bpf_tcp_sock#96
if r0 == 0 goto +3
r2 = *(u64 *)(r0 +88)
r3 = *(u32 *)(r0 +108)
r4 = *(u32 *)(r0 +112)
r0 = 0
exit
