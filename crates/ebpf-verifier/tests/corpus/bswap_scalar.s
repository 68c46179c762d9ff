; what: byte swap of a known value
; prog: socket_filter
r0 = 0x1234
r0 = be16 r0
exit
