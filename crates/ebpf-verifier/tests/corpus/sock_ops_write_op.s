; what: sock_ops writes its op field
; prog: sock_ops
r2 = 1
*(u32 *)(r1 +0) = r2
r0 = 1
exit
