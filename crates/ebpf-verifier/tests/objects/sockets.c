// Socket lookups as real programs write them: tc steering by the socket
// a packet belongs to, XDP UDP lookups from packet bytes, a cgroup_skb
// statistics probe through bpf_sk_fullsock and bpf_tcp_sock, and two
// classic bugs (a lookup leaked on one path, a socket read after release).
#include "objects.h"

static void *(*bpf_sk_lookup_udp)(void *ctx, void *tuple, __u32 tuple_size, __u64 netns, __u64 flags) = (void *)85;
static struct bpf_sock *(*bpf_sk_fullsock)(struct bpf_sock *sk) = (void *)95;
static struct bpf_tcp_sock *(*bpf_tcp_sock)(struct bpf_sock *sk) = (void *)96;
static struct bpf_sock *(*bpf_skc_lookup_tcp)(void *ctx, void *tuple, __u32 tuple_size, __u64 netns, __u64 flags) = (void *)99;
static long (*bpf_sk_assign)(void *ctx, void *sk, __u64 flags) = (void *)124;

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define CURRENT_NETNS (-1L)
#define TCP_LISTEN 10

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} sk_stats SEC(".maps");

/* The IPv4 TCP tuple of an skb's packet, or NULL. */
static __always_inline struct tcp *tcp_tuple(void *data, void *end, struct bpf_sock_tuple *t)
{
	struct eth *eth = data;
	if ((void *)(eth + 1) > end || eth->proto != htons(ETH_IP))
		return NULL;
	struct ipv4 *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl_version != 0x45 || ip->protocol != PROTO_TCP)
		return NULL;
	struct tcp *tcp = (void *)(ip + 1);
	if ((void *)(tcp + 1) > end)
		return NULL;
	t->ipv4.saddr = ip->saddr;
	t->ipv4.daddr = ip->daddr;
	t->ipv4.sport = tcp->source;
	t->ipv4.dport = tcp->dest;
	return tcp;
}

SEC("tc")
int tc_sk_lookup(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	if (!tcp_tuple(data, end, &t))
		return TC_ACT_OK;
	struct bpf_sock *sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), CURRENT_NETNS, 0);
	if (!sk)
		return TC_ACT_SHOT;
	__u32 state = sk->state;
	__u16 port = sk->dst_port;
	bpf_sk_release(sk);
	return state == TCP_LISTEN && port ? TC_ACT_OK : TC_ACT_SHOT;
}

SEC("tc")
int tc_sk_assign(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	if (!tcp_tuple(data, end, &t))
		return TC_ACT_OK;
	struct bpf_sock *sk = bpf_skc_lookup_tcp(skb, &t, sizeof(t.ipv4), CURRENT_NETNS, 0);
	if (!sk)
		return TC_ACT_OK;
	if (sk->state != TCP_LISTEN) {
		bpf_sk_release(sk);
		return TC_ACT_OK;
	}
	long err = bpf_sk_assign(skb, sk, 0);
	bpf_sk_release(sk);
	return err ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("xdp")
int xdp_udp_lookup(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct eth *eth = data;
	if ((void *)(eth + 1) > end || eth->proto != htons(ETH_IP))
		return XDP_PASS;
	struct ipv4 *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->protocol != PROTO_UDP)
		return XDP_PASS;
	/* saddr, daddr and the two ports follow each other in the packet. */
	struct bpf_sock_tuple *t = (void *)&ip->saddr;
	if ((void *)t + sizeof(t->ipv4) > end)
		return XDP_PASS;
	struct bpf_sock *sk = bpf_sk_lookup_udp(ctx, t, sizeof(t->ipv4), CURRENT_NETNS, 0);
	if (!sk)
		return XDP_DROP;
	bpf_sk_release(sk);
	return XDP_PASS;
}

SEC("cgroup_skb/egress")
int cg_tcp_stats(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != PROTO_TCP)
		return 1;
	struct bpf_tcp_sock *tp = bpf_tcp_sock(sk);
	if (!tp)
		return 1;
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&sk_stats, &k);
	if (v)
		*v += tp->snd_cwnd;
	k = 1;
	v = bpf_map_lookup_elem(&sk_stats, &k);
	if (v)
		*v = tp->bytes_acked;
	return 1;
}

/* Bug: the socket is not released when it is not listening. */
SEC("tc")
int tc_sk_leak(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	if (!tcp_tuple(data, end, &t))
		return TC_ACT_OK;
	struct bpf_sock *sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), CURRENT_NETNS, 0);
	if (!sk)
		return TC_ACT_OK;
	if (sk->state != TCP_LISTEN)
		return TC_ACT_SHOT;
	bpf_sk_release(sk);
	return TC_ACT_OK;
}

/* Bug: the socket is read after it was released. */
SEC("tc")
int tc_sk_after_release(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	if (!tcp_tuple(data, end, &t))
		return TC_ACT_OK;
	struct bpf_sock *sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), CURRENT_NETNS, 0);
	if (!sk)
		return TC_ACT_OK;
	bpf_sk_release(sk);
	asm volatile("" ::: "memory");
	return sk->family == 2 ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
