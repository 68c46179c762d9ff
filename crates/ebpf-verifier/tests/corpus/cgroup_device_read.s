; what: cgroup_device programs read the access type and major number
; prog: cgroup_device
r2 = *(u32 *)(r1 +0)
r3 = *(u32 *)(r1 +4)
r0 = 1
if r2 == r3 goto +1
r0 = 0
exit
