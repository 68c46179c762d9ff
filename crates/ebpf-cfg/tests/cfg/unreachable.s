; rejected: the kernel's message
    r0 = 0
    exit
    r0 = 1
    exit
