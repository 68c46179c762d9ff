; two nested counted loops, then a loop with two latches (a "continue")
    r0 = 0
    r6 = 0
outer:
    r7 = 0
inner:
    r0 += r7
    r7 += 1
    if r7 < 4 goto inner
    r6 += 1
    if r6 < 3 goto outer
    r8 = 0
cont:
    r8 += 1
    if r8 == 5 goto cont
    r0 += r8
    if r8 < 10 goto cont
    exit
