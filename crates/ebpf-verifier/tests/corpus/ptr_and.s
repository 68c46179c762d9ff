; what: a bitwise and on the frame pointer
; prog: socket_filter
r0 = r10
r0 &= 7
exit
