// Loops bounded by may_goto, as bpf_experimental.h's can_loop writes them:
// a packet walk the verifier cannot count, a counter loop over an array
// map, and a loop whose states never converge (the kernel gives up at 8192
// pending jumps).
#include "objects.h"

#define can_loop                                                        \
	({                                                              \
		__label__ l_break, l_continue;                          \
		int ret = 1;                                            \
		asm volatile goto("may_goto %l[l_break]" :::: l_break); \
		goto l_continue;                                        \
	l_break:                                                        \
		ret = 0;                                                \
	l_continue:;                                                    \
		ret;                                                    \
	})

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} slots SEC(".maps");

SEC("xdp")
int xdp_byte_sum(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 sum = 0;
	for (int i = 0; i < 64 && can_loop; i++) {
		if ((void *)(p + 1) > end)
			break;
		sum += *p++;
	}
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

SEC("socket")
int sum_slots(struct __sk_buff *skb)
{
	__u64 sum = 0;
	__u32 i = 0;
	while (can_loop) {
		__u32 key = i & 63;
		__u64 *v = bpf_map_lookup_elem(&slots, &key);
		if (v)
			sum += *v;
		if (++i >= skb->len)
			break;
	}
	return sum & 0xffff;
}

SEC("xdp")
int xdp_walk_all(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 sum = 0;
	while (can_loop) {
		if ((void *)(p + 1) > end)
			break;
		sum += *p++;
	}
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
