; what: sk_msg reads data, data_end, family and remote_ip4
; prog: sk_msg
r2 = *(u64 *)(r1 +0)
r3 = *(u64 *)(r1 +8)
r4 = *(u32 *)(r1 +16)
r5 = *(u32 *)(r1 +20)
r0 = 1
exit
