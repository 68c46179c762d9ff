; a cycle entered at two places: no natural loop, one irreducible edge;
; the kernel's DFS still sees a back-edge
    if r1 > 0 goto b
a:
    r0 += 1
    if r0 > 10 goto out
b:
    r0 += 2
    if r0 < 100 goto a
out:
    exit
