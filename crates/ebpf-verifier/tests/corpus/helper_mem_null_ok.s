; what: bpf_csum_diff takes NULL buffers with size 0
; prog: xdp
r1 = 0
r2 = 0
r3 = 0
r4 = 0
r5 = 0
call bpf_csum_diff#28
r0 = 2
exit
