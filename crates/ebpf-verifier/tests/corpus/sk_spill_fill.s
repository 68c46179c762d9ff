; what: a socket spilled to the stack, filled, checked and released
; prog: sched_cls
r6 = r1
r2 = 0
*(u64 *)(r10 -16) = r2
*(u32 *)(r10 -8) = r2
r1 = r6
r2 = r10
r2 += -16
r3 = 12
r4 = -1
r5 = 0
call bpf_sk_lookup_tcp#84
*(u64 *)(r10 -24) = r0
r1 = *(u64 *)(r10 -24)
if r1 == 0 goto +1
call bpf_sk_release#86
r0 = 0
exit
