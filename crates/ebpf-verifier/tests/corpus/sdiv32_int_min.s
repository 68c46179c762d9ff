; what: 32-bit INT_MIN s/ -1
; prog: socket_filter
w0 = 0x80000000
w0 s/= -1
exit
