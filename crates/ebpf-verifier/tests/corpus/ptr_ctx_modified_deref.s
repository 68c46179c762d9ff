; what: load through a ctx pointer moved by a constant
; prog: socket_filter
r1 += 8
r0 = *(u32 *)(r1 +0)
exit
