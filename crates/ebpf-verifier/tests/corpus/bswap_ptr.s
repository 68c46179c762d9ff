; what: a byte swap of a pointer
; prog: socket_filter
r1 = r10
r1 = be16 r1
r0 = 0
exit
