; what: <<32 then s>>32 sign-extends the low half
; prog: socket_filter
r0 = *(u32 *)(r1 +0)
r0 <<= 32
r0 s>>= 32
exit
