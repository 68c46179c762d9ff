; what: ld_imm64 of a hash map's value
; prog: socket_filter
; map: hash key=4 value=16 max_entries=1
r1 = map[idx:0][0]+0
r0 = 0
exit
