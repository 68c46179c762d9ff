; what: bpf_strtol writes its 8-byte result into the stack
; prog: socket_filter
*(u32 *)(r10 -16) = 49
r1 = r10
r1 += -16
r2 = 4
r3 = 0
r4 = r10
r4 += -8
call bpf_strtol#105
r0 = *(u64 *)(r10 -8)
r0 = 0
exit
