; f calls itself: a back-edge of the kernel's DFS (from the call), not a loop
    r1 = 3
    call f
    exit
f:
    if r1 == 0 goto out
    r1 -= 1
    call f
out:
    r0 = 0
    exit
