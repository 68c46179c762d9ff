; what: bpf_get_current_comm into 4 stack bytes
; prog: kprobe
r1 = r10
r1 += -4
r2 = 4
call bpf_get_current_comm#16
r0 = 0
exit
