; what: bpf_tail_call while a socket reference is held
; prog: sched_cls
; map: prog_array key=4 value=4 max_entries=4
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
if r0 == 0 goto +8
r7 = r0
r1 = r6
r2 = map[idx:0]
r3 = 0
call bpf_tail_call#12
r1 = r7
call bpf_sk_release#86
r0 = 0
exit
