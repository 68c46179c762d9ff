; what: a NULL buffer with a non-zero size
; prog: xdp
r1 = 0
r2 = 4
r3 = 0
r4 = 0
r5 = 0
call bpf_csum_diff#28
r0 = 2
exit
