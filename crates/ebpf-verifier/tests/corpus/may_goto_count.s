; what: may_goto bounds a loop whose count the verifier cannot know
; prog: socket_filter
r0 = 0
may_goto pc+2
r0 += 1
goto pc-3
exit
