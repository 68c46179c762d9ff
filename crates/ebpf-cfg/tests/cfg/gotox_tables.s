;! jump_table 2 4
; gotox with its jump table: one indirect edge per entry
    r1 = 0
    gotox r1
a:
    r0 = 1
    exit
b:
    r0 = 2
    goto a
