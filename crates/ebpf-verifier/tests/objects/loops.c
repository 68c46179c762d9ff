// Loops as real programs write them: bpf_loop with a context struct on
// the stack, bpf_for_each_map_elem, a bounded for loop over map values,
// printk with more than three arguments (bpf_trace_vprintk), and a loop
// whose bound the verifier cannot see.
#include "objects.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

struct sum_ctx {
	__u64 sum;
	__u32 seen;
};

static long add_value(__u32 index, struct sum_ctx *c)
{
	__u32 key = index;
	__u64 *v = bpf_map_lookup_elem(&values, &key);
	if (!v)
		return 1;
	c->sum += *v;
	c->seen++;
	return 0;
}

SEC("socket")
int sum_with_bpf_loop(struct __sk_buff *skb)
{
	struct sum_ctx c = {};
	bpf_loop(16, add_value, &c, 0);
	return c.sum > 100 ? 0 : skb->len;
}

static long visit(void *map, __u32 *key, __u64 *value, struct sum_ctx *c)
{
	c->sum += *value;
	if (*key >= 8)
		return 1;
	return 0;
}

SEC("socket")
int sum_with_for_each(struct __sk_buff *skb)
{
	struct sum_ctx c = {};
	bpf_for_each_map_elem(&values, visit, &c, 0);
	return c.sum & 0xffff;
}

SEC("socket")
int sum_with_for(struct __sk_buff *skb)
{
	__u64 sum = 0;
	for (__u32 i = 0; i < 16; i++) {
		__u32 key = i;
		__u64 *v = bpf_map_lookup_elem(&values, &key);
		if (v)
			sum += *v;
	}
	return sum & 0xffff;
}

SEC("socket")
int printk_many(struct __sk_buff *skb)
{
	static const char fmt[] = "len %u proto %u mark %u prio %u\n";
	__u64 args[4] = { skb->len, skb->protocol, skb->mark, skb->priority };
	bpf_trace_vprintk(fmt, sizeof(fmt), args, sizeof(args));
	return 0;
}

SEC("socket")
int unbounded_loop(struct __sk_buff *skb)
{
	__u32 n = skb->len;
	__u64 sum = 0;
	/* Bug: the bound comes from the packet length. */
	for (__u32 i = 0; i < n; i++)
		sum += i;
	return sum & 1;
}

char LICENSE[] SEC("license") = "GPL";
