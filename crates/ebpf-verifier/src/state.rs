//! Abstract register and stack state (`struct bpf_reg_state`,
//! `struct bpf_stack_state`, `struct bpf_func_state`) and the kernel log's
//! text for them (`print_verifier_state`).
//!
//! A [`RegState`] is a [`RegType`] with [`TypeFlags`] (`PTR_MAYBE_NULL`,
//! `MEM_RDONLY`, `MEM_RINGBUF`), a fixed offset for pointers, the variable
//! part as [`ScalarBounds`] (the whole value for scalars, the variable
//! offset for pointers), and what each pointer type needs: the map index of
//! map pointers and values, the proven range of packet pointers, the size
//! of memory from helpers, the frame of stack pointers, the ids that tie
//! `NULL` checks (`id`) and references (`ref_obj_id`) together.
//!
//! The log text follows Linux 6.18 as the golden files in
//! `tests/corpus/*.kernel` show it: `ctx()`, `fp-8`, `map_ptr(ks=4,vs=8)`,
//! `map_value(ks=4,vs=16,off=8)`, `pkt(off=14,r=14)`, `pkt_end()`,
//! `ringbuf_mem_or_null(id=2,ref_obj_id=2,sz=8)`, scalars as
//! [`ScalarBounds`] prints them, stack slots as `fp-8=mmmm????`.

use core::fmt;

use crate::scalar::ScalarBounds;

/// Size of a register and of a stack slot (`BPF_REG_SIZE`).
pub const REG_SIZE: usize = 8;
/// Bytes of stack per frame (`MAX_BPF_STACK`).
pub const MAX_STACK: usize = 512;
/// Stack slots per frame.
pub const STACK_SLOTS: usize = MAX_STACK / REG_SIZE;
/// Registers `r0..=r10` (`MAX_BPF_REG`).
pub const NUM_REGS: usize = 11;

/// The base type of a register (`enum bpf_reg_type` without flags).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum RegType {
    /// `NOT_INIT`: never written (reading it is `R%d !read_ok`).
    #[default]
    NotInit,
    /// `SCALAR_VALUE`: a number.
    Scalar,
    /// `PTR_TO_CTX`: the program's context.
    Ctx,
    /// `CONST_PTR_TO_MAP`: a map, from `ld_imm64`.
    ConstMapPtr,
    /// `PTR_TO_MAP_VALUE`: a map element's value.
    MapValue,
    /// `PTR_TO_MAP_KEY`: a map key (callbacks).
    MapKey,
    /// `PTR_TO_STACK`: into a frame's stack.
    Stack,
    /// `PTR_TO_PACKET`: packet data.
    Packet,
    /// `PTR_TO_PACKET_META`: packet metadata.
    PacketMeta,
    /// `PTR_TO_PACKET_END`: one past the packet (only for comparisons).
    PacketEnd,
    /// `PTR_TO_MEM`: memory a helper returned (ring buffer samples, ...).
    Mem,
    /// `PTR_TO_FUNC`: a subprogram's address (callbacks).
    Func,
    /// `PTR_TO_SOCK_COMMON`: a socket's common part (`struct bpf_sock`
    /// up to `type` and after `priority`).
    SockCommon,
    /// `PTR_TO_SOCKET`: a full socket (`struct bpf_sock`).
    Socket,
    /// `PTR_TO_TCP_SOCK`: a TCP socket (`struct bpf_tcp_sock`).
    TcpSock,
    /// `PTR_TO_FLOW_KEYS`: a flow dissector's `struct bpf_flow_keys`.
    FlowKeys,
}

impl RegType {
    /// The kernel's name (`reg_type_str` without flags).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            RegType::NotInit => "?",
            RegType::Scalar => "scalar",
            RegType::Ctx => "ctx",
            RegType::ConstMapPtr => "map_ptr",
            RegType::MapValue => "map_value",
            RegType::MapKey => "map_key",
            RegType::Stack => "fp",
            RegType::Packet => "pkt",
            RegType::PacketMeta => "pkt_meta",
            RegType::PacketEnd => "pkt_end",
            RegType::Mem => "mem",
            RegType::Func => "func",
            RegType::SockCommon => "sock_common",
            RegType::Socket => "sock",
            RegType::TcpSock => "tcp_sock",
            RegType::FlowKeys => "flow_keys",
        }
    }

    /// `type_is_pkt_pointer`: packet data or metadata.
    #[must_use]
    pub const fn is_pkt_pointer(self) -> bool {
        matches!(self, RegType::Packet | RegType::PacketMeta)
    }

    /// `type_is_sk_pointer`: one of the socket types.
    #[must_use]
    pub const fn is_sk_pointer(self) -> bool {
        matches!(
            self,
            RegType::SockCommon | RegType::Socket | RegType::TcpSock
        )
    }

    /// Every type but `NOT_INIT` and `SCALAR_VALUE`.
    #[must_use]
    pub const fn is_pointer(self) -> bool {
        !matches!(self, RegType::NotInit | RegType::Scalar)
    }
}

/// `BPF_ADD_CONST64`, `BPF_ADD_CONST32`: bits of a scalar's id saying it
/// is its linked registers' value plus `off` (after a 64- or 32-bit
/// `+= const`); [`ADD_CONST`] is either.
pub(crate) const ADD_CONST64: u32 = 1 << 31;
pub(crate) const ADD_CONST32: u32 = 1 << 30;
pub(crate) const ADD_CONST: u32 = ADD_CONST64 | ADD_CONST32;

/// Flags on a register type (`enum bpf_type_flag`, the ones modelled).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct TypeFlags(u8);

impl TypeFlags {
    /// No flags.
    pub const NONE: TypeFlags = TypeFlags(0);
    /// `PTR_MAYBE_NULL`: must be compared with 0 before use.
    pub const MAYBE_NULL: TypeFlags = TypeFlags(1);
    /// `MEM_RDONLY`: may be read, not written.
    pub const RDONLY: TypeFlags = TypeFlags(2);
    /// `MEM_RINGBUF`: a ring buffer sample.
    pub const RINGBUF: TypeFlags = TypeFlags(4);

    /// Whether every flag of `other` is set.
    #[must_use]
    pub const fn contains(self, other: TypeFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets of flags.
    #[must_use]
    pub const fn union(self, other: TypeFlags) -> TypeFlags {
        TypeFlags(self.0 | other.0)
    }

    /// These flags without `other`'s.
    #[must_use]
    pub const fn without(self, other: TypeFlags) -> TypeFlags {
        TypeFlags(self.0 & !other.0)
    }
}

/// One register's abstract value (`struct bpf_reg_state`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RegState {
    /// Base type.
    pub ty: RegType,
    /// Type flags.
    pub flags: TypeFlags,
    /// Fixed offset of a pointer (`off`).
    pub off: i32,
    /// Packet pointers: bytes proven readable from the packet start plus
    /// `off` (`range`). Kept as `i64` so the kernel's "known to be past the
    /// end" marker (printed `r=0xfffffffffffffffe`) fits.
    pub range: i64,
    /// Maps: index of the map (`map_ptr`), in the verifier's map table.
    pub map: Option<u32>,
    /// `PTR_TO_MEM`: its size in bytes (`mem_size`, printed `sz=`);
    /// `PTR_TO_FUNC`: the first slot of the function (`subprogno`'s
    /// start).
    pub mem_size: u32,
    /// Ties a possibly-`NULL` pointer to its copies, or linked scalars
    /// (`id`).
    pub id: u32,
    /// The acquired reference this pointer is (`ref_obj_id`).
    pub ref_obj_id: u32,
    /// `PTR_TO_STACK`: the frame it points into (`frameno`).
    pub frameno: u32,
    /// The value of a scalar, or the variable offset of a pointer
    /// (`var_off` and the ranges).
    pub var: ScalarBounds,
    /// A scalar whose exact value mattered to a decision (`precise`).
    pub precise: bool,
}

impl Default for RegState {
    fn default() -> RegState {
        RegState::not_init()
    }
}

impl RegState {
    /// `NOT_INIT`.
    #[must_use]
    pub fn not_init() -> RegState {
        RegState {
            ty: RegType::NotInit,
            flags: TypeFlags::NONE,
            off: 0,
            range: 0,
            map: None,
            mem_size: 0,
            id: 0,
            ref_obj_id: 0,
            frameno: 0,
            var: ScalarBounds::unknown(),
            precise: false,
        }
    }

    /// An unknown scalar (`mark_reg_unknown`).
    #[must_use]
    pub fn unknown_scalar() -> RegState {
        RegState {
            ty: RegType::Scalar,
            ..RegState::not_init()
        }
    }

    /// The scalar `value` (`__mark_reg_known`).
    #[must_use]
    pub fn known_scalar(value: u64) -> RegState {
        RegState {
            ty: RegType::Scalar,
            var: ScalarBounds::constant(value),
            ..RegState::not_init()
        }
    }

    /// A pointer of type `ty` with offset 0 and no variable part
    /// (`mark_reg_known_zero`).
    #[must_use]
    pub fn pointer(ty: RegType) -> RegState {
        RegState {
            ty,
            var: ScalarBounds::constant(0),
            ..RegState::not_init()
        }
    }

    /// The frame pointer of frame `frameno` (`r10`).
    #[must_use]
    pub fn frame_pointer(frameno: u32) -> RegState {
        RegState {
            frameno,
            ..RegState::pointer(RegType::Stack)
        }
    }

    /// Whether the register may be `NULL`.
    #[must_use]
    pub const fn maybe_null(&self) -> bool {
        self.flags.contains(TypeFlags::MAYBE_NULL)
    }

    /// The type's text with its flags (`reg_type_str`): `rdonly_`,
    /// `ringbuf_` prefixes, `_or_null` suffix.
    #[must_use]
    pub fn type_str(&self) -> String {
        let mut s = String::new();
        if self.flags.contains(TypeFlags::RDONLY) {
            s.push_str("rdonly_");
        }
        if self.flags.contains(TypeFlags::RINGBUF) {
            s.push_str("ringbuf_");
        }
        s.push_str(self.ty.name());
        if self.maybe_null() {
            s.push_str("_or_null");
        }
        s
    }

    /// The log text of this register (`print_reg_state`); `maps` gives the
    /// key and value sizes of map pointers and values.
    #[must_use]
    pub fn display<'a>(&'a self, maps: &'a [MapMeta]) -> RegStateDisplay<'a> {
        RegStateDisplay { reg: self, maps }
    }
}

/// What the verifier knows of a map (`struct bpf_map` as far as checks and
/// logs need it).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MapMeta {
    /// `enum bpf_map_type`.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// `map_flags`.
    pub flags: u32,
    /// For a map-in-map (`ARRAY_OF_MAPS`, `HASH_OF_MAPS`): the index, in
    /// the same table, of its inner map template (`inner_map_meta`), what
    /// a lookup yields once `NULL`-checked.
    pub inner: Option<u32>,
    /// Where its value holds a `struct bpf_spin_lock` (from the value's
    /// BTF), if it does.
    pub spin_lock_off: Option<u32>,
}

/// Display adapter of [`RegState::display`].
#[derive(Clone, Copy, Debug)]
pub struct RegStateDisplay<'a> {
    reg: &'a RegState,
    maps: &'a [MapMeta],
}

/// A number as the kernel log prints it (`verbose_snum`).
fn write_num(f: &mut fmt::Formatter<'_>, v: i64) -> fmt::Result {
    crate::scalar::write_snum(f, v)
}

impl fmt::Display for RegStateDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.reg;
        match r.ty {
            RegType::NotInit => return f.write_str("?"),
            RegType::Scalar if r.id & ADD_CONST != 0 => {
                // `id=1-1`: the link's id, then its constant distance.
                let base = r.id & !ADD_CONST;
                let text = r.var.display_reg(r.precise, base).to_string();
                let from = format!("(id={base}");
                return f.write_str(&text.replacen(&from, &format!("{from}{:+}", r.off), 1));
            }
            RegType::Scalar => return write!(f, "{}", r.var.display_reg(r.precise, r.id)),
            _ => {}
        }
        let var_const = r.var.var_off.is_const();
        if r.ty == RegType::Stack && var_const {
            f.write_str("fp")?;
            let total = (r.var.var_off.value as i64).wrapping_add(i64::from(r.off));
            return write!(f, "{total}");
        }
        let mut fields: Vec<String> = Vec::new();
        if r.id != 0 {
            fields.push(format!("id={}", r.id));
        }
        if r.ref_obj_id != 0 {
            fields.push(format!("ref_obj_id={}", r.ref_obj_id));
        }
        if matches!(
            r.ty,
            RegType::ConstMapPtr | RegType::MapValue | RegType::MapKey
        ) {
            let m = r.map.and_then(|i| self.maps.get(i as usize));
            let (ks, vs) = m.map_or((0, 0), |m| (m.key_size, m.value_size));
            fields.push(format!("ks={ks},vs={vs}"));
        }
        if r.off != 0 {
            fields.push(format!("off={}", Num(i64::from(r.off))));
        }
        if r.ty.is_pkt_pointer() {
            // Printed unsigned: the past-the-end markers are huge.
            fields.push(if r.range < 0 {
                format!("r={:#x}", r.range as u64)
            } else {
                format!("r={}", Num(r.range))
            });
        }
        if r.ty == RegType::Mem {
            fields.push(format!("sz={}", r.mem_size));
        }
        if !var_const {
            let ranges = r.var.display_reg(false, 0).to_string();
            // `scalar(...)` without its wrapper: the ranges and var_off.
            let inner = ranges
                .strip_prefix("scalar(")
                .and_then(|s| s.strip_suffix(')'))
                .unwrap_or("");
            if !inner.is_empty() {
                fields.push(inner.to_owned());
            }
        } else if r.var.var_off.value != 0 {
            fields.push(format!("imm={:x}", r.var.var_off.value));
        }
        write!(f, "{}({})", r.type_str(), fields.join(","))
    }
}

/// A number in the log's format ([`write_num`]).
struct Num(i64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_num(f, self.0)
    }
}

/// What one byte of a stack slot holds (`enum bpf_stack_slot_type`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum SlotType {
    /// `STACK_INVALID`: never written (`?`).
    #[default]
    Invalid,
    /// `STACK_SPILL`: part of a spilled register (`r`).
    Spill,
    /// `STACK_MISC`: some data (`m`).
    Misc,
    /// `STACK_ZERO`: known zero (`0`).
    Zero,
}

impl SlotType {
    /// The log's character for the byte.
    #[must_use]
    pub const fn char(self) -> char {
        match self {
            SlotType::Invalid => '?',
            SlotType::Spill => 'r',
            SlotType::Misc => 'm',
            SlotType::Zero => '0',
        }
    }
}

/// One 8-byte stack slot (`struct bpf_stack_state`): the type of each
/// byte, and the register spilled there (valid where bytes are `Spill`).
/// As in the kernel, `types[j]` is the byte at `slot end - 1 - j`: index 0
/// is the highest address, index 7 the slot's start.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct StackSlot {
    /// Byte types, highest address first.
    pub types: [SlotType; REG_SIZE],
    /// The spilled register.
    pub spilled: RegState,
}

impl StackSlot {
    /// Whether any byte was written.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.types.iter().any(|t| *t != SlotType::Invalid)
    }

    /// Whether any byte holds part of a spilled register (then
    /// [`StackSlot::spilled`] is meaningful).
    #[must_use]
    pub fn has_spill(&self) -> bool {
        self.types.contains(&SlotType::Spill)
    }

    /// Whether the whole slot holds a spilled register (`is_spilled_reg`:
    /// the last byte is `STACK_SPILL`).
    #[must_use]
    pub fn is_spill(&self) -> bool {
        self.types[REG_SIZE - 1] == SlotType::Spill
    }
}

/// One call frame (`struct bpf_func_state`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct FuncState {
    /// `r0..=r10`.
    pub regs: [RegState; NUM_REGS],
    /// Slots from `r10 - 8` (index 0) downwards; only as many as were
    /// touched (`allocated_stack / 8`).
    pub stack: Vec<StackSlot>,
    /// Depth of this frame (0: the program's entry).
    pub frameno: u32,
    /// Slot of the call instruction that made this frame (`callsite`).
    pub callsite: Option<usize>,
    /// Index of the subprogram this frame runs.
    pub subprog: usize,
    /// A callback a helper calls (`in_callback_fn`): its `exit` returns to
    /// the helper call, which may call it again, and its `r0` must be 0
    /// or 1.
    pub callback: bool,
    /// Callback iterations this frame has queued at its current helper
    /// call (`callback_depth`): `bpf_loop` stops at its count's maximum.
    pub callback_depth: u32,
}

impl FuncState {
    /// A fresh frame `frameno` running `subprog`: every register
    /// `NOT_INIT` but `r10`.
    #[must_use]
    pub fn new(frameno: u32, subprog: usize, callsite: Option<usize>) -> FuncState {
        let mut regs = [RegState::not_init(); NUM_REGS];
        regs[10] = RegState::frame_pointer(frameno);
        FuncState {
            regs,
            stack: Vec::new(),
            frameno,
            callsite,
            subprog,
            callback: false,
            callback_depth: 0,
        }
    }

    /// The slot holding `r10 - 8 * (index + 1)`, growing the stack.
    pub fn slot_mut(&mut self, index: usize) -> &mut StackSlot {
        // Callers pass slots of a 512-byte frame; anything else is clamped.
        let index = index.min(STACK_SLOTS - 1);
        if self.stack.len() <= index {
            self.stack
                .resize(index.saturating_add(1), StackSlot::default());
        }
        &mut self.stack[index]
    }

    /// The log text of this frame (`print_verifier_state` with
    /// `print_all`): every initialised register, every written stack
    /// slot. With `only`, just those registers and slots.
    #[must_use]
    pub fn display<'a>(&'a self, maps: &'a [MapMeta]) -> FuncStateDisplay<'a> {
        FuncStateDisplay {
            frame: self,
            maps,
            regs: None,
            slots: None,
        }
    }
}

/// Display adapter of [`FuncState::display`]; starts with a space (the
/// kernel's `" R1=ctx() R10=fp0"`).
#[derive(Clone, Copy, Debug)]
pub struct FuncStateDisplay<'a> {
    frame: &'a FuncState,
    maps: &'a [MapMeta],
    /// Only these registers (bit `i`: `r<i>`), when set.
    regs: Option<u16>,
    /// Only these stack slots (bit `i`: slot `i`), when set.
    slots: Option<u64>,
}

impl FuncStateDisplay<'_> {
    /// Print only the registers in `regs` (bit `i`: `r<i>`) and the stack
    /// slots in `slots` (bit `i`: `fp-8*(i+1)`): the kernel's "scratched"
    /// state after one instruction.
    #[must_use]
    pub fn only(mut self, regs: u16, slots: u64) -> Self {
        self.regs = Some(regs);
        self.slots = Some(slots);
        self
    }
}

impl fmt::Display for FuncStateDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fr = self.frame;
        if fr.frameno != 0 {
            write!(f, " frame{}:", fr.frameno)?;
        }
        for (i, reg) in fr.regs.iter().enumerate() {
            if reg.ty == RegType::NotInit {
                continue;
            }
            if self.regs.is_some_and(|m| m & (1 << i) == 0) {
                continue;
            }
            write!(f, " R{i}={}", frame_ref(reg, fr.frameno, self.maps))?;
        }
        for (i, slot) in fr.stack.iter().enumerate() {
            if !slot.is_valid() || self.slots.is_some_and(|m| i >= 64 || m & (1 << i) == 0) {
                continue;
            }
            let off = (i as i64).saturating_add(1).saturating_mul(-8);
            write!(f, " fp{off}=")?;
            if slot.is_spill() {
                // A narrow spill shows the bytes before it first.
                for t in slot.types.iter().take_while(|t| **t != SlotType::Spill) {
                    write!(f, "{}", t.char())?;
                }
                // Printed as a register is (`print_reg_state`).
                write!(f, "{}", frame_ref(&slot.spilled, fr.frameno, self.maps))?;
            } else {
                for t in slot.types {
                    write!(f, "{}", t.char())?;
                }
            }
        }
        if fr.callback {
            f.write_str(" cb")?;
        }
        Ok(())
    }
}

/// A register as frame `frameno` prints it: a pointer into another
/// frame's stack names that frame (`fp[0]-4`).
fn frame_ref(reg: &RegState, frameno: u32, maps: &[MapMeta]) -> String {
    let text = reg.display(maps).to_string();
    if reg.ty == RegType::Stack
        && reg.frameno != frameno
        && let Some(rest) = text.strip_prefix("fp")
    {
        return format!("fp[{}]{rest}", reg.frameno);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps() -> Vec<MapMeta> {
        vec![MapMeta {
            map_type: 2,
            key_size: 4,
            value_size: 16,
            max_entries: 1,
            flags: 0,
            inner: None,
            spin_lock_off: None,
        }]
    }

    #[test]
    fn pointer_text_matches_the_kernel() {
        let m = maps();
        let show = |r: &RegState| r.display(&m).to_string();
        assert_eq!(show(&RegState::pointer(RegType::Ctx)), "ctx()");
        assert_eq!(show(&RegState::frame_pointer(0)), "fp0");
        let mut fp = RegState::frame_pointer(0);
        fp.off = -8;
        assert_eq!(show(&fp), "fp-8");
        let mut map = RegState::pointer(RegType::ConstMapPtr);
        map.map = Some(0);
        assert_eq!(show(&map), "map_ptr(ks=4,vs=16)");
        let mut value = RegState::pointer(RegType::MapValue);
        value.map = Some(0);
        value.off = 8;
        assert_eq!(show(&value), "map_value(ks=4,vs=16,off=8)");
        value.off = 0;
        value.id = 1;
        value.flags = TypeFlags::MAYBE_NULL;
        assert_eq!(show(&value), "map_value_or_null(id=1,ks=4,vs=16)");
        let mut pkt = RegState::pointer(RegType::Packet);
        assert_eq!(show(&pkt), "pkt(r=0)");
        pkt.off = 14;
        pkt.range = 14;
        assert_eq!(show(&pkt), "pkt(off=14,r=14)");
        assert_eq!(show(&RegState::pointer(RegType::PacketEnd)), "pkt_end()");
        let mut rb = RegState::pointer(RegType::Mem);
        rb.flags = TypeFlags::RINGBUF.union(TypeFlags::MAYBE_NULL);
        rb.id = 2;
        rb.ref_obj_id = 2;
        rb.mem_size = 8;
        assert_eq!(show(&rb), "ringbuf_mem_or_null(id=2,ref_obj_id=2,sz=8)");
        assert_eq!(show(&RegState::known_scalar(7)), "7");
        assert_eq!(show(&RegState::unknown_scalar()), "scalar()");
    }

    #[test]
    fn variable_offsets_print_their_ranges() {
        let m = maps();
        let mut value = RegState::pointer(RegType::MapValue);
        value.map = Some(0);
        value.var = ScalarBounds::unknown();
        value.var.alu(
            ebpf_isa::AluOp::And,
            ebpf_isa::Width::W64,
            &ScalarBounds::constant(7),
        );
        assert_eq!(
            value.display(&m).to_string(),
            "map_value(ks=4,vs=16,smin=smin32=0,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7))"
        );
        let mut fp = RegState::frame_pointer(0);
        fp.off = -16;
        fp.var = value.var;
        assert_eq!(
            fp.display(&m).to_string(),
            "fp(off=-16,smin=smin32=0,smax=umax=smax32=umax32=7,var_off=(0x0; 0x7))"
        );
    }

    #[test]
    fn frame_text() {
        let m = maps();
        let mut fr = FuncState::new(0, 0, None);
        fr.regs[1] = RegState::pointer(RegType::Ctx);
        assert_eq!(fr.display(&m).to_string(), " R1=ctx() R10=fp0");
        let slot = fr.slot_mut(0);
        slot.types[..4].copy_from_slice(&[SlotType::Zero; 4]);
        assert_eq!(
            fr.display(&m).to_string(),
            " R1=ctx() R10=fp0 fp-8=0000????"
        );
        let slot = fr.slot_mut(1);
        slot.types = [SlotType::Spill; REG_SIZE];
        slot.spilled = RegState::pointer(RegType::Ctx);
        assert_eq!(
            fr.display(&m).only(0b10, 0b10).to_string(),
            " R1=ctx() fp-16=ctx()"
        );
        let callee = FuncState::new(1, 1, Some(3));
        assert_eq!(callee.display(&m).to_string(), " frame1: R10=fp0");
    }
}
