; what: a jump to itself
; prog: socket_filter
r0 = 0
goto -1
exit
