; what: sock_ops writes its reply field
; prog: sock_ops
r2 = 1
*(u32 *)(r1 +4) = r2
r0 = 1
exit
