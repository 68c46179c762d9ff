; if-then-else joining at one exit
    r0 = 0
    if r1 > 5 goto else
    r0 = 1
    goto end
else:
    r0 = 2
end:
    exit
