; what: a may_goto loop walking a counter converges (imprecise scalars widened)
; prog: socket_filter
r6 = 0
r7 = 0
may_goto pc+4
r6 += 1
r7 += 2
r0 = r6
goto pc-5
r0 = 0
exit
