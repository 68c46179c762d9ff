// Spin locks as real programs use them: a counter updated under its lock
// from tc, a per-flow record in a hash map from XDP, and the classic
// mistakes (a helper called under the lock, an early return that keeps
// it, the lock word read directly, two locks, the wrong unlock, a tracing
// program with a locked map).
#include "objects.h"

struct counter {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 packets;
	__u64 bytes;
};

struct flow {
	__u64 first_seen;
	struct bpf_spin_lock lock;
	__u32 packets;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counter);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counter);
} counters2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct flow);
} flows SEC(".maps");

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct counter *c = bpf_map_lookup_elem(&counters, &zero);
	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	c->packets++;
	c->bytes += skb->len;
	bpf_spin_unlock(&c->lock);
	return 0;
}

SEC("xdp")
int xdp_flow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct eth *eth = data;
	if ((void *)(eth + 1) > end || eth->proto != htons(ETH_IP))
		return XDP_PASS;
	struct ipv4 *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	__u32 key = ip->saddr;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (!f) {
		struct flow init = { .first_seen = bpf_ktime_get_ns() };
		bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);
		return XDP_PASS;
	}
	bpf_spin_lock(&f->lock);
	f->packets++;
	bpf_spin_unlock(&f->lock);
	return XDP_PASS;
}

/* Bug: a helper called while the lock is held. */
SEC("tc")
int tc_lock_helper(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct counter *c = bpf_map_lookup_elem(&counters, &zero);
	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	c->bytes = bpf_ktime_get_ns();
	bpf_spin_unlock(&c->lock);
	return 0;
}

/* Bug: an early return keeps the lock. */
SEC("tc")
int tc_lock_early_return(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct counter *c = bpf_map_lookup_elem(&counters, &zero);
	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	if (c->packets > 100)
		return 2;
	c->packets++;
	bpf_spin_unlock(&c->lock);
	return 0;
}

/* Bug: the lock word read like data. */
SEC("tc")
int tc_lock_peek(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct counter *c = bpf_map_lookup_elem(&counters, &zero);
	if (!c)
		return 0;
	return *(volatile __u32 *)&c->lock;
}

/* Bug: two locks held at once. */
SEC("tc")
int tc_two_locks(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct counter *a = bpf_map_lookup_elem(&counters, &zero);
	struct counter *b = bpf_map_lookup_elem(&counters2, &zero);
	if (!a || !b)
		return 0;
	bpf_spin_lock(&a->lock);
	bpf_spin_lock(&b->lock);
	a->packets++;
	b->packets++;
	bpf_spin_unlock(&b->lock);
	bpf_spin_unlock(&a->lock);
	return 0;
}

/* Bug: a tracing program may not use a map with a lock. */
SEC("kprobe/do_sys_open")
int kprobe_locked(struct regs *r)
{
	__u32 zero = 0;
	struct counter *c = bpf_map_lookup_elem(&counters, &zero);
	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	c->packets++;
	bpf_spin_unlock(&c->lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
