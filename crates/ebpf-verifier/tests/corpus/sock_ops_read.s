; what: sock_ops programs read their op and reply
; prog: sock_ops
r2 = *(u32 *)(r1 +0)
*(u32 *)(r1 +4) = r2
r0 = 1
exit
