; what: a path out of a may_goto loop reads an uninitialised register
; prog: socket_filter
r0 = 0
r1 = 0
may_goto pc+4
r1 += 1
if r1 == 5 goto pc+1
goto pc-4
r0 = r2
exit
