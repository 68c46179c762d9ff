//! The runtime without an engine: create maps, call helpers the way an
//! engine does, and read the results from the host side.
//!
//! ```text
//! cargo run -p ebpf-runtime --example maps
//! ```

use ebpf_runtime::{
    BPF_ANY, HelperContext, INPUT_BASE, Invocation, MapDef, MapType, Runtime, Trap, layout,
};

/// A custom helper: count calls in embedder state, return the count.
fn count_calls(ctx: &mut HelperContext<'_>, _: [u64; 5]) -> Result<u64, Trap> {
    let n = ctx.require_state::<u64>()?;
    *n += 1;
    Ok(*n)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rt = Runtime::new();
    rt.register_helper(0x1000, "count_calls", count_calls);
    let hash = rt
        .maps_mut()
        .create(MapDef::new("flows", MapType::HASH, 4, 8, 128))?;
    let events = rt
        .maps_mut()
        .create(MapDef::new("events", MapType::RINGBUF, 0, 0, 4096))?;
    rt.maps_mut()
        .update(hash, &7u32.to_le_bytes(), &1u64.to_le_bytes(), BPF_ANY)?;

    // What an engine does during a run: a session over the input buffer,
    // helper calls by id with r1..r5.
    let mut input = [0u8; 16];
    let mut calls = 0u64;
    {
        let mut s = rt.session(Invocation::new(&mut input).state(&mut calls), 1);
        s.mem.store(INPUT_BASE, 7u32.to_le_bytes())?;
        // bpf_map_lookup_elem(flows, &key) -> pointer into the map's region.
        let value = s
            .call_helper(0, 1, [hash.addr(), INPUT_BASE, 0, 0, 0])?
            .value;
        println!("lookup -> {value:#x} (region tag {})", layout::tag(value));
        let old = u64::from_le_bytes(s.mem.load(value).ok_or("bad pointer")?);
        s.mem.store(value, (old + 1).to_le_bytes())?;
        // bpf_ringbuf_output(events, input, 4, 0)
        s.call_helper(1, 130, [events.addr(), INPUT_BASE, 4, 0, 0])?;
        s.call_helper(2, 0x1000, [0; 5])?;
        // A bad pointer is a trap value, not a crash.
        let err = s.call_helper(3, 1, [hash.addr(), 0, 0, 0, 0]).unwrap_err();
        println!("trap: {err}");
    }
    println!("custom helper called {calls} time(s)");
    let v = rt
        .maps()
        .lookup(hash, &7u32.to_le_bytes())?
        .ok_or("missing")?;
    println!("flows[7] = {}", u64::from_le_bytes(v.try_into()?));
    for rec in rt.maps_mut().ringbuf_drain(events)? {
        println!("event: {rec:02x?}");
    }
    Ok(())
}
