; what: reads of bpf_sock fields, narrow ones included
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
call bpf_sk_lookup_udp#85
if r0 == 0 goto +7
r2 = *(u32 *)(r0 +4)
r3 = *(u16 *)(r0 +48)
r4 = *(u8 *)(r0 +25)
r5 = *(u32 *)(r0 +76)
r7 = *(u16 *)(r0 +28)
r1 = r0
call bpf_sk_release#86
r0 = 0
exit
