; what: a loop bounded only by a packet-derived value
; prog: socket_filter
r2 = *(u32 *)(r1 +0)
r1 = 0
r1 += 1
if r1 < r2 goto -2
r0 = 0
exit
