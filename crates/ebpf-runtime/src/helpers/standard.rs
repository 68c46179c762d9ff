//! The standard helpers ([`super::Helpers::standard`]).

use smallvec::SmallVec;

use super::{HelperContext, HelperFn};
use crate::maps::{MapError, MapId, MapType, errno};
use crate::trap::Trap;

type Bytes = SmallVec<[u8; 64]>;

/// `BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP`: the flags ring buffer output and
/// submit accept.
const RB_WAKEUP_FLAGS: u64 = 3;

pub(super) const STANDARD: &[(u32, &str, HelperFn)] = &[
    (1, "bpf_map_lookup_elem", map_lookup_elem),
    (2, "bpf_map_update_elem", map_update_elem),
    (3, "bpf_map_delete_elem", map_delete_elem),
    (5, "bpf_ktime_get_ns", ktime_get_ns),
    (6, "bpf_trace_printk", trace_printk),
    (7, "bpf_get_prandom_u32", get_prandom_u32),
    (8, "bpf_get_smp_processor_id", get_smp_processor_id),
    (12, "bpf_tail_call", tail_call),
    (87, "bpf_map_push_elem", map_push_elem),
    (88, "bpf_map_pop_elem", map_pop_elem),
    (89, "bpf_map_peek_elem", map_peek_elem),
    (130, "bpf_ringbuf_output", ringbuf_output),
    (131, "bpf_ringbuf_reserve", ringbuf_reserve),
    (132, "bpf_ringbuf_submit", ringbuf_submit),
    (133, "bpf_ringbuf_discard", ringbuf_discard),
];

fn neg(e: i32) -> u64 {
    (-i64::from(e)) as u64
}

/// The map argument and its key and value sizes.
fn map_sizes(ctx: &mut HelperContext<'_>, handle: u64) -> Result<(MapId, u64, u64, MapType), Trap> {
    let id = ctx.map_arg(handle)?;
    let Some(def) = ctx.mem.maps.def(id) else {
        return Err(ctx.error("no such map"));
    };
    Ok((
        id,
        u64::from(def.key_size),
        u64::from(def.value_size),
        def.map_type,
    ))
}

fn copy_in(ctx: &HelperContext<'_>, addr: u64, len: u64) -> Result<Bytes, Trap> {
    Ok(Bytes::from_slice(ctx.read(addr, len)?))
}

fn wrong_type(ctx: &HelperContext<'_>, id: MapId, t: MapType) -> Trap {
    ctx.error(format!("{id} ({t}) cannot be used with this helper"))
}

fn map_lookup_elem(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    let (id, ks, _, t) = map_sizes(ctx, a[0])?;
    let key = copy_in(ctx, a[1], ks)?;
    if t == MapType::ARRAY_OF_MAPS {
        // The value is the inner map: its handle, as `ld_imm64` gives it.
        let inner = ctx.maps().lookup(id, &key).ok().flatten();
        let inner = inner.and_then(|v| <[u8; 4]>::try_from(v).ok());
        return Ok(inner.map_or(0, |v| MapId(u32::from_le_bytes(v)).addr()));
    }
    Ok(match ctx.maps().lookup_offset(id, &key) {
        Ok(Some(off)) => id.addr() + u64::from(off),
        _ => 0,
    })
}

fn map_update_elem(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    let (id, ks, vs, t) = map_sizes(ctx, a[0])?;
    if matches!(t, MapType::QUEUE | MapType::STACK | MapType::RINGBUF) {
        return Err(wrong_type(ctx, id, t));
    }
    let key = copy_in(ctx, a[1], ks)?;
    let value = copy_in(ctx, a[2], vs)?;
    let r = ctx.maps().update(id, &key, &value, a[3]);
    ctx.map_result(r)
}

fn map_delete_elem(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    let (id, ks, _, t) = map_sizes(ctx, a[0])?;
    if matches!(t, MapType::QUEUE | MapType::STACK | MapType::RINGBUF) {
        return Err(wrong_type(ctx, id, t));
    }
    let key = copy_in(ctx, a[1], ks)?;
    if matches!(t, MapType::ARRAY | MapType::PERCPU_ARRAY) {
        // Array elements cannot be deleted: the kernel's -EINVAL.
        return Ok(neg(errno::EINVAL));
    }
    let r = ctx.maps().delete(id, &key);
    ctx.map_result(r)
}

fn ktime_get_ns(ctx: &mut HelperContext<'_>, _: [u64; 5]) -> Result<u64, Trap> {
    Ok(ctx.ktime_ns())
}

fn trace_printk(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    let fmt = copy_in(ctx, a[0], a[1])?;
    let out = super::format_printk(&fmt, [a[2], a[3], a[4]], |addr| {
        ctx.read_cstr(addr, super::printk::MAX_STR)
            .map(<[u8]>::to_vec)
    });
    match out {
        Ok(text) => {
            let n = text.len() as u64;
            ctx.trace(text);
            Ok(n)
        }
        Err(_) => Ok(neg(errno::EINVAL)),
    }
}

fn get_prandom_u32(ctx: &mut HelperContext<'_>, _: [u64; 5]) -> Result<u64, Trap> {
    Ok(u64::from(ctx.prandom_u32()))
}

fn get_smp_processor_id(_: &mut HelperContext<'_>, _: [u64; 5]) -> Result<u64, Trap> {
    Ok(0)
}

fn tail_call(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    let (id, _, _, t) = map_sizes(ctx, a[1])?;
    if t != MapType::PROG_ARRAY {
        return Err(wrong_type(ctx, id, t));
    }
    let prog = match ctx.maps().prog_array_get(id, a[2] as u32) {
        Ok(Some(p)) => p,
        _ => return Ok(neg(errno::ENOENT)),
    };
    let limit_hit = ctx.tail_calls() >= ctx.config.max_tail_calls;
    if ctx.request_tail_call(prog)? {
        Ok(0)
    } else if limit_hit {
        Ok(neg(errno::E2BIG))
    } else {
        Ok(neg(errno::ENOENT))
    }
}

fn queue_arg(ctx: &mut HelperContext<'_>, handle: u64) -> Result<(MapId, u64), Trap> {
    let (id, _, vs, t) = map_sizes(ctx, handle)?;
    if !matches!(t, MapType::QUEUE | MapType::STACK) {
        return Err(wrong_type(ctx, id, t));
    }
    Ok((id, vs))
}

fn map_push_elem(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    let (id, vs) = queue_arg(ctx, a[0])?;
    let value = copy_in(ctx, a[1], vs)?;
    let r = ctx.maps().push(id, &value, a[2]);
    ctx.map_result(r)
}

fn pop_or_peek(ctx: &mut HelperContext<'_>, a: [u64; 5], pop: bool) -> Result<u64, Trap> {
    let (id, _) = queue_arg(ctx, a[0])?;
    let got: Result<Bytes, MapError> = if pop {
        ctx.maps().pop(id).map(Bytes::from_slice)
    } else {
        ctx.maps().peek(id).map(Bytes::from_slice)
    };
    match got {
        Ok(v) => {
            ctx.write(a[1], &v)?;
            Ok(0)
        }
        Err(e) => ctx.map_result(Err(e)),
    }
}

fn map_pop_elem(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    pop_or_peek(ctx, a, true)
}

fn map_peek_elem(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    pop_or_peek(ctx, a, false)
}

fn ringbuf_arg(ctx: &mut HelperContext<'_>, handle: u64) -> Result<MapId, Trap> {
    let (id, _, _, t) = map_sizes(ctx, handle)?;
    if t != MapType::RINGBUF {
        return Err(wrong_type(ctx, id, t));
    }
    Ok(id)
}

fn ringbuf_output(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    let id = ringbuf_arg(ctx, a[0])?;
    if a[3] & !RB_WAKEUP_FLAGS != 0 {
        return Ok(neg(errno::EINVAL));
    }
    let data = copy_in(ctx, a[1], a[2])?;
    let r = ctx.maps().ringbuf_output(id, &data);
    ctx.map_result(r)
}

fn ringbuf_reserve(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    let id = ringbuf_arg(ctx, a[0])?;
    if a[2] != 0 {
        return Ok(0);
    }
    match ctx.maps().ringbuf_reserve(id, a[1]) {
        Ok(Some(off)) => Ok(id.addr() + u64::from(off)),
        _ => Ok(0),
    }
}

fn ringbuf_finish(ctx: &mut HelperContext<'_>, a: [u64; 5], discard: bool) -> Result<u64, Trap> {
    let sample = a[0];
    let (id, off) = ctx
        .map_pointer(sample)
        .ok_or_else(|| ctx.error(format!("{sample:#x} is not a ring buffer sample")))?;
    let r = ctx.maps().ringbuf_finish(id, off, discard);
    match r {
        Ok(()) => Ok(0),
        Err(e) => Err(ctx.error(e.to_string())),
    }
}

fn ringbuf_submit(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    ringbuf_finish(ctx, a, false)
}

fn ringbuf_discard(ctx: &mut HelperContext<'_>, a: [u64; 5]) -> Result<u64, Trap> {
    ringbuf_finish(ctx, a, true)
}
