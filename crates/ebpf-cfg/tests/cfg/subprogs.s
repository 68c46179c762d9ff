; main calls f, passes cb to bpf_loop, then tail-calls;
; f loops under may_goto
    r6 = r1
    call f
    r1 = 4
    r2 = func cb
    r3 = 0
    r4 = 0
    call bpf_loop
    r1 = r6
    r2 = map[fd:3]
    r3 = 0
    call bpf_tail_call
    r0 = 0
    exit
f:
    r0 = 0
loop:
    may_goto done
    r0 += 1
    goto loop
done:
    exit
cb:
    r0 = 0
    exit
