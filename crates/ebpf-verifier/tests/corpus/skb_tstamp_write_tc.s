; what: tc writes skb->tstamp
; prog: sched_cls
r2 = 7
*(u64 *)(r1 +152) = r2
r0 = 0
exit
