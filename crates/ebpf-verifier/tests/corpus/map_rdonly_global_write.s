; what: a store through ld_imm64 into read-only global data
; prog: socket_filter
; map: array key=4 value=16 max_entries=1 flags=128
r1 = map[idx:0][0]+8
*(u64 *)(r1 +0) = 3
r0 = 0
exit
