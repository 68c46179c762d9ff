; what: ctx read past __sk_buff
; prog: socket_filter
r0 = *(u32 *)(r1 +1000)
exit
