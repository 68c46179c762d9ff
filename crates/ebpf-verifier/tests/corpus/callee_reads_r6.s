; what: a function reads r6, which its frame never set
; prog: socket_filter
r6 = 1
call pc+2
r0 = 0
exit
r0 = r6
exit
