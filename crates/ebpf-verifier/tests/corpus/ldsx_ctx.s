; what: a sign-extending load from the context
; prog: socket_filter
r0 = *(s8 *)(r1 +0)
r0 = 0
exit
