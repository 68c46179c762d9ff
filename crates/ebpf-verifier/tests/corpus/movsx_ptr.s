; what: a sign-extending move of a pointer
; prog: socket_filter
r0 = (s32)r1
r0 = 0
exit
