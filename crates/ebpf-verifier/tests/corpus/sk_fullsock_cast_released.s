; what: a bpf_sk_fullsock result is gone once its socket is released
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
call bpf_skc_lookup_tcp#99
if r0 == 0 goto +8
r6 = r0
r1 = r0
call bpf_sk_fullsock#95
r7 = r0
r1 = r6
call bpf_sk_release#86
if r7 == 0 goto +1
r0 = *(u32 *)(r7 +4)
r0 = 0
exit
