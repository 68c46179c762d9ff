// Functions the way libbpf programs split code: static helpers taking
// stack buffers and the context, and global (non-static) functions, which
// the kernel verifies on their own from their BTF signature.
#include "objects.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} totals SEC(".maps");

static __noinline int parse_len(struct __sk_buff *skb, __u32 *out)
{
	__u32 len = skb->len;
	if (len > 1500)
		return -1;
	*out = len;
	return 0;
}

static __noinline void add_total(__u32 idx, __u64 v)
{
	__u64 *t = bpf_map_lookup_elem(&totals, &idx);
	if (t)
		__sync_fetch_and_add(t, v);
}

SEC("socket")
int static_calls(struct __sk_buff *skb)
{
	__u32 len = 0;
	if (parse_len(skb, &len))
		return 0;
	add_total(0, len);
	return len;
}

__noinline int global_len(struct __sk_buff *skb)
{
	return skb->len & 0x7ff;
}

__noinline int global_scale(int x)
{
	if (x < 0)
		return 0;
	return x * 3;
}

SEC("socket")
int global_calls(struct __sk_buff *skb)
{
	int n = global_len(skb);
	add_total(1, global_scale(n));
	return n;
}

char LICENSE[] SEC("license") = "GPL";
