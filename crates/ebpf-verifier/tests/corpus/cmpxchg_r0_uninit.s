; what: cmpxchg reads r0, which was never written
; prog: socket_filter
r1 = 0
*(u64 *)(r10 -8) = r1
r2 = 1
r0 = atomic_cmpxchg((u64 *)(r10 -8), r0, r2)
exit
