// XDP in the style of a small L4 load balancer: header parsing with
// bounds checks, a variable-length IP header, a backend lookup, checksum
// fix-up with bpf_csum_diff, per-CPU counters, redirect through a devmap;
// plus a program that moves the packet head, and one with a classic bug.
#include "objects.h"

struct backend {
	__u32 addr;
	__u32 port_index;
	__u64 packets;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		*v += 1;
}

static __always_inline __u16 fold(__s64 sum)
{
	__u32 s = (__u32)sum;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
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
	__u32 hlen = (ip->ihl_version & 0x0f) * 4;
	if (hlen < sizeof(*ip))
		return XDP_DROP;
	if ((void *)ip + hlen > end)
		return XDP_DROP;
	if (ip->protocol != PROTO_UDP)
		return XDP_PASS;
	struct udp *udp = (void *)ip + hlen;
	if ((void *)(udp + 1) > end)
		return XDP_DROP;
	__u32 key = ntohs(udp->dest);
	struct backend *b = bpf_map_lookup_elem(&backends, &key);
	if (!b) {
		count(1);
		return XDP_PASS;
	}
	__u32 old = ip->daddr;
	__u32 new = b->addr;
	ip->daddr = new;
	__s64 sum = bpf_csum_diff(&old, 4, &new, 4, ~ip->check & 0xffff);
	ip->check = fold(sum);
	__sync_fetch_and_add(&b->packets, 1);
	count(0);
	return bpf_redirect_map(&ports, b->port_index, XDP_PASS);
}

SEC("xdp")
int xdp_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct eth *outer = data;
	if ((void *)(outer + 1) > end)
		return XDP_PASS;
	if (outer->proto != htons(0x88b5))
		return XDP_PASS;
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(struct eth)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	struct eth *inner = data;
	if ((void *)(inner + 1) > end)
		return XDP_DROP;
	count(2);
	return inner->proto == htons(ETH_IP) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xdp_stale_pointer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct eth *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (bpf_xdp_adjust_head(ctx, 0))
		return XDP_DROP;
	/* Bug: eth was computed before the head moved. */
	return eth->proto == htons(ETH_IP) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xdp_sum_bytes(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 sum = 0;
	for (int i = 0; i < 64; i++) {
		if ((void *)(p + i + 1) > end)
			break;
		sum += p[i];
	}
	__u32 key = 3;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);
	if (v)
		*v += sum;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
