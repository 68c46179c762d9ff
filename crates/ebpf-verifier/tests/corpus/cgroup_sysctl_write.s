; what: cgroup_sysctl context fields are read-only
; prog: cgroup_sysctl
*(u32 *)(r1 +0) = 1
r0 = 1
exit
