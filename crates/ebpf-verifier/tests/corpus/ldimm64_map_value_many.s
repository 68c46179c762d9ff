; what: ld_imm64 of a value of an array with 4 elements
; prog: socket_filter
; map: array key=4 value=16 max_entries=4
r1 = map[idx:0][0]+0
r0 = 0
exit
