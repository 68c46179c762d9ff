// Map types and helpers as real programs use them: an LPM trie lookup, a
// queue and a stack, a map of maps, a per-CPU hash; tracing with the
// current task read through bpf_probe_read_kernel, a perf_event program,
// a raw tracepoint, and a uprobe with its attach cookie.
#include "objects.h"

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 64);
	__uint(key_size, 0);
	__uint(value_size, sizeof(__u64));
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 64);
	__uint(key_size, 0);
	__uint(value_size, sizeof(__u64));
} stack SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} inner0 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = { .values = { [0] = &inner0 } };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} cpu_counts SEC(".maps");

SEC("xdp")
int xdp_route(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct eth *eth = data;
	struct ipv4 *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	struct lpm_key key = { .prefixlen = 32, .addr = ip->daddr };
	__u32 *action = bpf_map_lookup_elem(&routes, &key);
	if (!action)
		return XDP_PASS;
	return *action == 1 ? XDP_DROP : XDP_PASS;
}

SEC("socket")
int queue_ops(struct __sk_buff *skb)
{
	__u64 v = skb->len;
	bpf_map_push_elem(&queue, &v, 0);
	bpf_map_push_elem(&stack, &v, 0);
	__u64 out = 0;
	if (bpf_map_peek_elem(&queue, &out) == 0)
		v += out;
	if (bpf_map_pop_elem(&stack, &out) == 0)
		v += out;
	return v & 1;
}

SEC("socket")
int map_of_maps(struct __sk_buff *skb)
{
	__u32 zero = 0;
	void *m = bpf_map_lookup_elem(&outer, &zero);
	if (!m)
		return 0;
	__u32 idx = skb->len & 3;
	__u64 *v = bpf_map_lookup_elem(m, &idx);
	if (!v)
		return 0;
	return *v & 0xff;
}

SEC("kprobe/do_nanosleep")
int task_comm(struct regs *ctx)
{
	__u64 task = bpf_get_current_task();
	char comm[16];
	/* comm sits at a fixed offset in task_struct on this kernel build;
	 * CO-RE would relocate it. */
	bpf_probe_read_kernel_(comm, sizeof(comm), (void *)(task + 2960));
	__u32 key = comm[0];
	__u64 one = 1, *c = bpf_map_lookup_elem(&cpu_counts, &key);
	if (c)
		*c += 1;
	else
		bpf_map_update_elem(&cpu_counts, &key, &one, BPF_NOEXIST);
	return 0;
}

/* struct bpf_perf_event_data on x86-64. */
struct perf_data {
	struct regs regs;
	__u64 sample_period;
	__u64 addr;
};

SEC("perf_event")
int perf_sample(struct perf_data *ctx)
{
	struct bpf_perf_event_value v;
	if (bpf_perf_prog_read_value(ctx, &v, sizeof(v)))
		return 0;
	__u32 key = ctx->sample_period & 0xff;
	bpf_map_update_elem(&cpu_counts, &key, &v.counter, BPF_ANY);
	return 0;
}

SEC("raw_tracepoint/sched_process_exec")
int raw_exec(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 arg0 = ctx->args[0];
	__u32 key = arg0 & 0xff;
	__u64 now = bpf_ktime_get_boot_ns();
	bpf_map_update_elem(&cpu_counts, &key, &now, BPF_ANY);
	return 0;
}

SEC("uprobe/libc.so.6:malloc")
int malloc_probe(struct regs *ctx)
{
	__u64 size = PARM1(ctx);
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 key = (size + cookie) & 0xff;
	__u64 one = 1;
	bpf_map_update_elem(&cpu_counts, &key, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
