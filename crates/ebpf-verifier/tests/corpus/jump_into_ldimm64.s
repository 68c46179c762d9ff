; what: a jump into the second half of ld_imm64
; prog: socket_filter
goto +1
r1 = 0x100000000 ll
r0 = 0
exit
