; what: a helper writing into a read-only map value
; prog: kprobe
; map: array key=4 value=16 max_entries=1 flags=128
r2 = 0
*(u32 *)(r10 -4) = r2
r1 = map[idx:0]
r2 = r10
r2 += -4
call bpf_map_lookup_elem#1
if r0 == 0 goto +3
r1 = r0
r2 = 16
call bpf_get_current_comm#16
r0 = 0
exit
