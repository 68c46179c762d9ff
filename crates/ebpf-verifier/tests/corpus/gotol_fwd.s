; what: a long jump forward
; prog: socket_filter
gotol +1
r0 = 1
r0 = 0
exit
