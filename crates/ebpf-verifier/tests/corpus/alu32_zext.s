; what: 32-bit ALU zero-extends
; prog: socket_filter
r0 = -1
w0 += 0
r0 >>= 32
exit
