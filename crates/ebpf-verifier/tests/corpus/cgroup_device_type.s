; what: cgroup_device reads access_type as 2 bytes
; prog: cgroup_device
r0 = *(u16 *)(r1 +0)
r0 = 1
exit
