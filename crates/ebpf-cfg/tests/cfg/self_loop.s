; a conditional jump to itself, then `goto pc-1` forever (no exit at all)
    r0 = 0
spin:
    if r1 > 0 goto spin
    r0 = 1
    goto pc-1
