; what: a bit test on the context pointer
; prog: socket_filter
if r1 & 0x1 goto +1
r0 = 0
r0 = 0
exit
