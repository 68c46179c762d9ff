; what: a socket filter reads skb->sk
; prog: socket_filter
r2 = *(u64 *)(r1 +168)
r0 = 0
exit
