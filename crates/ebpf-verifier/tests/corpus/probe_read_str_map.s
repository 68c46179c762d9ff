; what: bpf_probe_read_kernel_str into a map value
; prog: kprobe
; map: array key=4 value=32 max_entries=1
r6 = *(u64 *)(r1 +112)
r2 = 0
*(u32 *)(r10 -4) = r2
r1 = map[idx:0]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
if r0 == 0 goto +4
r1 = r0
r2 = 32
r3 = r6
call bpf_probe_read_kernel_str#115
r0 = 0
exit
