; what: sk_reuseport reads the packet after a bounds check
; prog: sk_reuseport
r2 = *(u64 *)(r1 +0)
r3 = *(u64 *)(r1 +8)
r4 = r2
r4 += 2
if r4 > r3 goto +1
r0 = *(u16 *)(r2 +0)
r0 = 0
exit
