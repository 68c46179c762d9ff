// More of what real programs do: tail calls through a program array,
// stack traces, map-in-map, masked indices into arrays, bpf_snprintf and
// bpf_strncmp with read-only strings, a global function that must stand
// on its own, spin locks.
#include "objects.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jumps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct slot {
	__u64 hist[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slot);
} hist SEC(".maps");

struct locked {
	struct bpf_spin_lock lock;
	__u64 value;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} guarded SEC(".maps");

SEC("socket")
int dispatch(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jumps, skb->len & 3);
	return 0;
}

SEC("kprobe/vfs_write")
int sample_stack(struct regs *ctx)
{
	int id = bpf_get_stackid(ctx, &stacks, 0);
	if (id < 0)
		return 0;
	__u32 key = id;
	__u64 one = 1, *c = bpf_map_lookup_elem(&counts, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

SEC("kprobe/vfs_fsync")
int log2_hist(struct regs *ctx)
{
	__u32 zero = 0;
	struct slot *s = bpf_map_lookup_elem(&hist, &zero);
	if (!s)
		return 0;
	__u64 v = PARM3(ctx);
	__u32 bucket = 0;
	while (v > 1 && bucket < 63) {
		v >>= 1;
		bucket++;
	}
	s->hist[bucket & 63]++;
	return 0;
}

SEC("kprobe/vfs_unlink")
int user_stack(struct regs *ctx)
{
	__u64 buf[16];
	long n = bpf_get_stack(ctx, buf, sizeof(buf), BPF_F_USER_STACK);
	if (n <= 0)
		return 0;
	__u32 key = buf[0] & 0xffffffff;
	__u64 one = 1;
	bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
	return 0;
}

SEC("socket")
int format_len(struct __sk_buff *skb)
{
	static const char fmt[] = "len=%u mark=%u";
	char out[32];
	__u64 args[2] = { skb->len, skb->mark };
	long n = bpf_snprintf(out, sizeof(out), fmt, args, sizeof(args));
	return n > 0 ? 1 : 0;
}

SEC("socket")
int compare_name(struct __sk_buff *skb)
{
	static const char want[] = "eth0";
	char name[8] = "eth0";
	return bpf_strncmp(name, 5, want) == 0;
}

SEC("socket")
int locked_add(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct locked *l = bpf_map_lookup_elem(&guarded, &zero);
	if (!l)
		return 0;
	bpf_spin_lock(&l->lock);
	l->value += skb->len;
	bpf_spin_unlock(&l->lock);
	return 0;
}

__noinline int global_deref(__u64 *p)
{
	/* The kernel checks this function alone: p may be NULL. */
	return *p & 1;
}

SEC("socket")
int calls_global_deref(struct __sk_buff *skb)
{
	__u64 v = skb->len;
	return global_deref(&v);
}

__noinline int global_checked(__u64 *p)
{
	if (!p)
		return 0;
	return *p & 1;
}

SEC("socket")
int calls_global_checked(struct __sk_buff *skb)
{
	__u64 v = skb->len;
	return global_checked(&v);
}

char LICENSE[] SEC("license") = "GPL";
