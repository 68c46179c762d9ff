; what: a loop that never ends
; prog: socket_filter
r0 = 0
r0 += 1
goto -2
