; what: a jump past the end
; prog: socket_filter
goto +5
r0 = 0
exit
