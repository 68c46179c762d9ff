// tc programs that edit packets the way real ones do: bytes loaded and
// stored through helpers with checksum fix-ups, direct packet access
// after bpf_skb_pull_data, __sk_buff field writes; plus the classic bug of
// reading the packet without a data_end check.
#include "objects.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} nat SEC(".maps");

SEC("tc")
int tc_snat(struct __sk_buff *skb)
{
	struct ipv4 ip;
	if (skb->protocol != htons(ETH_IP))
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, sizeof(struct eth), &ip, sizeof(ip)) < 0)
		return TC_ACT_OK;
	__u32 *to = bpf_map_lookup_elem(&nat, &ip.saddr);
	if (!to)
		return TC_ACT_OK;
	__u32 from = ip.saddr;
	__u32 addr = *to;
	int off = sizeof(struct eth) + __builtin_offsetof(struct ipv4, saddr);
	bpf_l3_csum_replace(skb, sizeof(struct eth) + __builtin_offsetof(struct ipv4, check), from, addr, 4);
	bpf_skb_store_bytes(skb, off, &addr, 4, 0);
	return TC_ACT_OK;
}

SEC("tc")
int tc_classify(struct __sk_buff *skb)
{
	if (bpf_skb_pull_data(skb, sizeof(struct eth) + sizeof(struct ipv4)))
		return TC_ACT_OK;
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct eth *eth = data;
	struct ipv4 *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return TC_ACT_OK;
	if (ip->protocol == PROTO_TCP) {
		skb->mark = 0x10;
		skb->priority = ip->tos >> 2;
	} else if (ip->protocol == PROTO_UDP) {
		skb->mark = 0x20;
		skb->tc_classid = 0x10001;
	}
	return TC_ACT_OK;
}

SEC("tc")
int tc_unchecked(struct __sk_buff *skb)
{
	struct eth *eth = (void *)(long)skb->data;
	/* Bug: no data_end check. */
	return eth->proto == htons(ETH_IP) ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
