; what: cgroup_sock programs return 0 or 1
; prog: cgroup_sock
r0 = *(u32 *)(r1 +4)
r0 = 2
exit
