; what: an instruction no path reaches
; prog: socket_filter
r0 = 0
exit
r0 = 1
exit
