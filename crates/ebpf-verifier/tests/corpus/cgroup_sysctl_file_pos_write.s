; what: cgroup_sysctl writes file_pos
; prog: cgroup_sysctl
r2 = 0
*(u32 *)(r1 +4) = r2
r0 = 1
exit
