; what: sk_msg data and data_end are packet pointers
; prog: sk_msg
r2 = *(u64 *)(r1 +0)
r3 = *(u64 *)(r1 +8)
r4 = r2
r4 += 4
if r4 > r3 goto +1
r0 = *(u32 *)(r2 +0)
r0 = 1
exit
