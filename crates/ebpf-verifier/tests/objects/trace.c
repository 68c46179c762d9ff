// Tracing in the style of bcc/libbpf-tools: kprobe arguments from
// pt_regs, strings read from user memory into a ring buffer record,
// perf-buffer output of a stack struct, start times in a hash map, a
// tracepoint reading its record; plus a ring buffer reservation leaked on
// one path.
#include "objects.h"

struct event {
	__u32 pid;
	__u32 uid;
	__u64 delta_ns;
	char comm[16];
	char path[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

SEC("kprobe/do_sys_openat2")
int trace_open(struct regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	const char *filename = (const char *)PARM2(ctx);
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = id >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->delta_ns = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (bpf_probe_read_user_str(e->path, sizeof(e->path), filename) < 0) {
		bpf_ringbuf_discard(e, 0);
		return 0;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/vfs_read")
int trace_read_entry(struct regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

SEC("kretprobe/vfs_read")
int trace_read_exit(struct regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *tsp = bpf_map_lookup_elem(&start, &tid);
	if (!tsp)
		return 0;
	struct event e = {};
	e.pid = tid;
	e.delta_ns = bpf_ktime_get_ns() - *tsp;
	bpf_get_current_comm(&e.comm, sizeof(e.comm));
	bpf_map_delete_elem(&start, &tid);
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

struct sched_switch_args {
	__u64 common;
	char prev_comm[16];
	int prev_pid;
	int prev_prio;
	long prev_state;
	char next_comm[16];
	int next_pid;
	int next_prio;
};

SEC("tracepoint/sched/sched_switch")
int trace_switch(struct sched_switch_args *ctx)
{
	__u32 pid = ctx->next_pid;
	__u64 ts = bpf_ktime_get_ns();
	if (ctx->prev_state == 0) {
		__u32 prev = ctx->prev_pid;
		bpf_map_update_elem(&start, &prev, &ts, BPF_ANY);
	}
	__u64 *tsp = bpf_map_lookup_elem(&start, &pid);
	if (tsp && ts > *tsp) {
		__u64 delta = ts - *tsp;
		bpf_map_delete_elem(&start, &pid);
		if (delta > 1000000)
			bpf_trace_printk("long wait %d\n", 14, pid);
	}
	return 0;
}

SEC("kprobe/do_unlinkat")
int trace_leak(struct regs *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	/* Bug: the reservation is neither submitted nor discarded here. */
	if (e->pid == 1)
		return 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
