// More networking as real programs write it: XDP forwarding through
// bpf_fib_lookup, metadata before the packet, trimming the tail; a
// cgroup_skb filter; an sk_skb verdict program; sock_ops callbacks.
#include "objects.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct eth *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->proto != htons(ETH_IP))
		return XDP_PASS;
	struct ipv4 *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	if (ip->ttl <= 1)
		return XDP_PASS;
	struct bpf_fib_lookup fib = {};
	fib.family = 2;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.tot_len = ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	int rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc != 0)
		return XDP_PASS;
	ip->ttl--;
	__builtin_memcpy(eth->dst, fib.dmac, 6);
	__builtin_memcpy(eth->src, fib.smac, 6);
	return bpf_redirect(fib.ifindex, 0);
}

SEC("xdp")
int xdp_meta(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_meta(ctx, -4))
		return XDP_PASS;
	void *data = (void *)(long)ctx->data;
	void *meta = (void *)(long)ctx->data_meta;
	__u32 *mark = meta;
	if ((void *)(mark + 1) > data)
		return XDP_PASS;
	*mark = 42;
	return XDP_PASS;
}

SEC("xdp")
int xdp_trim(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	if (data + 128 > end)
		return XDP_PASS;
	if (bpf_xdp_adjust_tail(ctx, -64))
		return XDP_DROP;
	return XDP_PASS;
}

SEC("cgroup_skb/ingress")
int cg_filter(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ipv4 *ip = data;
	if ((void *)(ip + 1) > end)
		return 1;
	if (ip->protocol == PROTO_UDP) {
		__u32 key = ip->saddr;
		__u64 one = 1, *n = bpf_map_lookup_elem(&drops, &key);
		if (n)
			__sync_fetch_and_add(n, 1);
		else
			bpf_map_update_elem(&drops, &key, &one, BPF_ANY);
		return 0;
	}
	return 1;
}

SEC("sk_skb/stream_verdict")
int skb_verdict(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	if (data + 1 > end)
		return 1;
	return *(unsigned char *)data == 'x' ? 0 : 1;
}

SEC("sockops")
int sockops_cb(struct bpf_sock_ops *ops)
{
	switch (ops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		bpf_sock_ops_cb_flags_set(ops, BPF_SOCK_OPS_STATE_CB_FLAG);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (ops->args[1] == 7)
			ops->reply = 1;
		break;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
