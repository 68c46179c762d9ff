; what: ld_imm64 of a BTF id without a kernel BTF
; prog: socket_filter
r1 = btf_id[5]
r0 = 0
exit
