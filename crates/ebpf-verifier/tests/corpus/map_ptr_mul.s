; what: multiplying a map pointer
; prog: socket_filter
; map: array key=4 value=8 max_entries=1
r1 = map[idx:0]
r1 *= 2
r0 = 0
exit
