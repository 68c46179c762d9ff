; what: ld_imm64 of a map value (global data)
; prog: socket_filter
; map: array key=4 value=16 max_entries=1
r1 = map[idx:0][0]+8
r0 = *(u64 *)(r1 +0)
exit
