; what: arithmetic on a map pointer
; prog: socket_filter
; map: array key=4 value=8 max_entries=4
r1 = map[idx:0]
r1 += 8
r0 = 0
exit
