; what: a tail call from a function whose caller uses 512 bytes of stack
; prog: sched_cls
; map: prog_array key=4 value=4 max_entries=4
r2 = 0
*(u64 *)(r10 -512) = r2
call pc+2
r0 = 0
exit
r2 = map[idx:0]
r3 = 0
call bpf_tail_call#12
r0 = 0
exit
