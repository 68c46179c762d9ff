; what: bpf_get_local_storage of a cgroup storage map, written
; prog: cgroup_skb
; map: cgroup_storage key=16 value=8 max_entries=0
r1 = map[idx:0]
r2 = 0
call bpf_get_local_storage#81
r1 = 1
lock *(u64 *)(r0 +0) += r1
r0 = 1
exit
