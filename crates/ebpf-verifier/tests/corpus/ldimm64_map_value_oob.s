; what: ld_imm64 of a map value past its end
; prog: socket_filter
; map: array key=4 value=16 max_entries=1
r1 = map[idx:0][0]+20
r0 = 0
exit
