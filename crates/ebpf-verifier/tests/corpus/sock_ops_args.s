; what: sock_ops reads args[] and local_port
; prog: sock_ops
r2 = *(u32 *)(r1 +4)
r3 = *(u32 *)(r1 +68)
r0 = 1
exit
