//! Messages that help: a stable code and a concrete hint for every
//! refusal.
//!
//! The verifier refuses a program with the kernel's own error line
//! ([`check::Refusal::message`](crate::check::Refusal)), which says *what*
//! went wrong in the kernel's terms (`R2 offset is outside of the packet`,
//! `R1 !read_ok`, ...). [`diagnose`] classifies that line into a [`Code`]
//! and writes a hint that says *what to change*, using the numbers of the
//! message where they help (`off=14 size=1` becomes `data + 15`).
//! [`diagnose_with_log`] does the same with the verifier log at hand, which
//! lets it read the detail line the kernel prints just before some errors
//! (`invalid access to packet, off=14 size=1, ...` before `R2 offset is
//! outside of the packet`, `Unreleased reference id=2 alloc_insn=4` before
//! `... would lead to reference leak`).
//!
//! # Stability
//!
//! A code's text ([`Code::as_str`], `EBPF-V` and three digits) never
//! changes meaning once published: a code is never renumbered, reused for
//! another kind of refusal, or removed; new kinds get new numbers. The
//! hundreds group the codes: `0xx` program structure, `1xx` registers and
//! ALU, `2xx` pointer arithmetic, `3xx` memory accesses, `4xx` helpers and
//! calls, `5xx` program exit and references, `6xx` verifier limits, `9xx`
//! this verifier's own limits and unclassified lines. Titles and hints are
//! prose and may be reworded.
//!
//! ```
//! use ebpf_verifier::diag::{Code, diagnose};
//!
//! let d = diagnose("invalid access to packet, off=14 size=1, R2(id=0,off=14,r=0)");
//! assert_eq!(d.code, Code::PktOutOfRange);
//! assert_eq!(d.code.as_str(), "EBPF-V304");
//! assert!(d.hint.contains("if (data + 15 > data_end)"));
//! ```

use std::fmt;

/// A stable code, one per kind of refusal.
///
/// [`Code::as_str`] gives the code's text (`EBPF-V304`), which never
/// changes meaning once published; [`Code::title`] a short human title.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Code {
    /// `program has no instructions`.
    EmptyProgram,
    /// `program of N insns is larger than the limit of M insns`.
    ProgramTooLong,
    /// `loading/calling other bpf or kernel functions are allowed for
    /// CAP_BPF and CAP_SYS_ADMIN`.
    CallsNeedCapBpf,
    /// `call to invalid destination`.
    InvalidCallTarget,
    /// `too many subprograms`.
    TooManySubprograms,
    /// `jump out of range from insn X to Y`.
    JumpOutOfRange,
    /// `last insn is not an exit or jmp`, `invalid insn idx N`: control
    /// can run past the end of a function.
    FallsOffEnd,
    /// `no jump tables found for subprog starting at N`, `jump table for
    /// insn N points outside of the subprog [A,B]`.
    JumpTable,
    /// `back-edge from insn X to Y`.
    BackEdge,
    /// `unreachable insn N`.
    UnreachableInsn,
    /// `jump into the middle of ldimm64 insn N`.
    JumpIntoLdImm64,
    /// `unsupported instruction ...`, `unknown opcode ..`, `... uses
    /// reserved fields`: an instruction that is malformed or not
    /// supported.
    BadInstruction,
    /// `fd_idx N is out of bounds`, `fd N is not pointing to valid
    /// bpf_map`: a map reference that names no map.
    BadMapReference,
    /// `invalid access to map value pointer, value_size=N off=M`, `no
    /// direct value access support for this map type`, `direct value offset
    /// of N is not allowed`: an `ld_imm64` of a map value's address that
    /// the map does not allow.
    DirectValueAccess,
    /// `R%d !read_ok`.
    UninitRegister,
    /// `frame pointer is read only`.
    FramePointerReadOnly,
    /// `div by zero`.
    DivByZero,
    /// `invalid shift N`.
    InvalidShift,
    /// `R%d pointer arithmetic with OP operator prohibited`, `R%d bitwise
    /// operator OP on pointer prohibited`, `R%d 32-bit pointer arithmetic
    /// prohibited`, `R%d sign-extension part of pointer`, `R%d pointer
    /// arithmetic prohibited`.
    PtrArithOperator,
    /// `R%d pointer OP pointer prohibited`, `R%d tried to subtract pointer
    /// from scalar`.
    PtrWithPtr,
    /// `R%d pointer arithmetic on TYPE prohibited`.
    PtrArithOnType,
    /// `math between TYPE pointer and register with unbounded min value is
    /// not allowed`.
    UnboundedPtrMath,
    /// `value V makes TYPE pointer be out of bounds`, `R%d TYPE pointer
    /// offset V is not allowed`.
    PtrOffsetTooLarge,
    /// `R%d min value is negative, either use unsigned index or do a if
    /// (index >=0) check.`
    NegativeIndex,
    /// `R%d invalid mem access 'scalar'`.
    DerefScalar,
    /// `R%d invalid mem access 'TYPE_or_null'`, `R%d pointer arithmetic on
    /// TYPE_or_null prohibited, null-check it first`, `Possibly NULL
    /// pointer passed to ...`.
    MaybeNull,
    /// `R%d invalid mem access 'TYPE'` for a pointer that cannot be
    /// dereferenced (`pkt_end`, `map_ptr`, ...).
    BadDerefType,
    /// `invalid access to packet, off=O size=S, R%d(id=I,off=F,r=R)`,
    /// `R%d offset is outside of the packet`.
    PktOutOfRange,
    /// `invalid bpf_context access off=O size=S`.
    CtxAccess,
    /// `dereference of modified ctx ptr R%d off=O disallowed`, `variable
    /// ctx access var_off=... disallowed`.
    CtxModified,
    /// `BPF_ATOMIC stores into R%d TYPE is not allowed`.
    AtomicStore,
    /// `invalid access to map value, value_size=N off=O size=S`.
    MapValueRange,
    /// `invalid access to memory, mem_size=N off=O size=S`.
    MemRange,
    /// `R%d min value is outside of the allowed memory range`, `R%d max
    /// value is outside of the allowed memory range`, `R%d unbounded
    /// memory access, make sure to bounds check any such access`.
    RegionRange,
    /// `invalid write to stack R%d off=O size=S`, `invalid read from stack
    /// R%d off=O size=S`, `invalid indirect access to stack R%d off=O
    /// size=S`, `invalid stack off=O size=S`.
    StackOutOfBounds,
    /// `misaligned stack access off A+B+C size N` (and `packet`, `value`,
    /// `context`, ... accesses).
    Misaligned,
    /// `invalid variable-offset stack access R%d var_off=...`.
    StackVariableOffset,
    /// `invalid read from stack off A+B size N`, `invalid indirect read
    /// from stack R%d off A+B size N`.
    StackUninit,
    /// `invalid size of register spill`, `invalid size of register fill`.
    SpillSize,
    /// `stack pointer into a returned frame`.
    StackOfReturnedFrame,
    /// `invalid func unknown#N`.
    UnknownHelper,
    /// `program of this type cannot use helper NAME#N`, `unknown func
    /// NAME#N`.
    HelperUnavailable,
    /// `cannot call GPL-restricted function from non-GPL compatible
    /// program`.
    GplOnly,
    /// `helper call is not allowed in probe`.
    HelperNotAllowed,
    /// `helper call might sleep in a non-sleepable prog`.
    HelperMightSleep,
    /// `R%d type=TYPE expected=TYPES`.
    HelperArgType,
    /// `R%d is not a known constant'`.
    HelperArgConst,
    /// `R%d invalid zero-sized read: u64=[A,B]`.
    HelperZeroSize,
    /// `R%d unbounded memory access, use 'var &= const' or 'if (var <
    /// const)'`.
    HelperSizeUnbounded,
    /// `cannot pass map_type N into func NAME#ID`.
    HelperMapType,
    /// `the call stack of N frames is too deep`.
    CallTooDeep,
    /// `combined stack size of N calls is M. Too large`.
    StackTooLarge,
    /// `missing btf func_info`: a function's address (a callback) in a
    /// program loaded without BTF function records; `tail_call is not
    /// allowed in subprogs without BTF` (and `LD_ABS`).
    MissingFuncInfo,
    /// `BPF_LD_[ABS|IND] ...`, `at the time of BPF_LD_ABS|IND R6 != pointer
    /// to skb`: a classic packet load that cannot be used here.
    LdAbs,
    /// `cannot write into packet`, `helper access to the packet is not
    /// allowed`: this program type may only read the packet.
    PacketReadOnly,
    /// `R%d invalid sock access off=N size=M` (also `sock_common`,
    /// `tcp_sock`), `R%d cannot write into sock`: a socket field that
    /// cannot be read this way, or a store into a socket.
    SockAccess,
    /// `write into map forbidden, ...`, `read from map forbidden, ...`: a
    /// map created read-only (or write-only) for programs.
    MapAccessType,
    /// `function calls are not allowed while holding a lock`, `... cannot
    /// be used inside bpf_spin_lock-ed region`, `bpf_spin_lock cannot be
    /// accessed directly by load/store` and the other spin lock rules.
    SpinLock,
    /// `At program exit the register R0 has ... should have been in [A,
    /// B]`.
    ReturnRange,
    /// `At program exit the register R0 is not a known value (TYPE)`.
    ReturnNotScalar,
    /// `BPF_EXIT instruction in main prog would lead to reference leak`,
    /// `Unreleased reference id=I alloc_insn=N`.
    ReferenceLeak,
    /// `reference has not been acquired before`, `R%d must be referenced
    /// when passed to release function`.
    ReleaseUnacquired,
    /// `BPF program is too large. Processed N insn`, `The sequence of N
    /// jumps is too complex.`
    TooComplex,
    /// `infinite loop detected at insn N`.
    InfiniteLoop,
    /// Something this verifier does not model yet (a helper's prototype, a
    /// program type): a limit of ours, not the kernel's verdict.
    NotModeled,
    /// A line no other code describes.
    Other,
}

impl Code {
    /// Every code, in numeric order.
    pub const ALL: &'static [Code] = &[
        Code::EmptyProgram,
        Code::ProgramTooLong,
        Code::CallsNeedCapBpf,
        Code::InvalidCallTarget,
        Code::TooManySubprograms,
        Code::JumpOutOfRange,
        Code::FallsOffEnd,
        Code::JumpTable,
        Code::BackEdge,
        Code::UnreachableInsn,
        Code::JumpIntoLdImm64,
        Code::BadInstruction,
        Code::BadMapReference,
        Code::DirectValueAccess,
        Code::UninitRegister,
        Code::FramePointerReadOnly,
        Code::DivByZero,
        Code::InvalidShift,
        Code::PtrArithOperator,
        Code::PtrWithPtr,
        Code::PtrArithOnType,
        Code::UnboundedPtrMath,
        Code::PtrOffsetTooLarge,
        Code::NegativeIndex,
        Code::DerefScalar,
        Code::MaybeNull,
        Code::BadDerefType,
        Code::PktOutOfRange,
        Code::CtxAccess,
        Code::CtxModified,
        Code::AtomicStore,
        Code::MapValueRange,
        Code::MemRange,
        Code::RegionRange,
        Code::StackOutOfBounds,
        Code::Misaligned,
        Code::StackVariableOffset,
        Code::StackUninit,
        Code::SpillSize,
        Code::StackOfReturnedFrame,
        Code::LdAbs,
        Code::PacketReadOnly,
        Code::SockAccess,
        Code::MapAccessType,
        Code::UnknownHelper,
        Code::HelperUnavailable,
        Code::GplOnly,
        Code::HelperNotAllowed,
        Code::HelperMightSleep,
        Code::HelperArgType,
        Code::HelperArgConst,
        Code::HelperZeroSize,
        Code::HelperSizeUnbounded,
        Code::HelperMapType,
        Code::CallTooDeep,
        Code::StackTooLarge,
        Code::MissingFuncInfo,
        Code::SpinLock,
        Code::ReturnRange,
        Code::ReturnNotScalar,
        Code::ReferenceLeak,
        Code::ReleaseUnacquired,
        Code::TooComplex,
        Code::InfiniteLoop,
        Code::NotModeled,
        Code::Other,
    ];

    /// The code's stable text, `EBPF-V` and three digits.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.info().0
    }

    /// A short human title.
    #[must_use]
    pub fn title(self) -> &'static str {
        self.info().1
    }

    /// The code whose text ([`Code::as_str`]) is `s`, ignoring ASCII case.
    #[must_use]
    pub fn from_code_str(s: &str) -> Option<Code> {
        let s = s.trim();
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }

    fn info(self) -> (&'static str, &'static str) {
        match self {
            Code::EmptyProgram => ("EBPF-V001", "empty program"),
            Code::ProgramTooLong => ("EBPF-V002", "program has too many instructions"),
            Code::CallsNeedCapBpf => ("EBPF-V003", "function calls need CAP_BPF"),
            Code::InvalidCallTarget => ("EBPF-V004", "call to an invalid destination"),
            Code::TooManySubprograms => ("EBPF-V005", "too many functions"),
            Code::JumpOutOfRange => ("EBPF-V006", "jump out of range"),
            Code::FallsOffEnd => ("EBPF-V007", "control falls off the end of a function"),
            Code::JumpTable => ("EBPF-V008", "bad jump table"),
            Code::BackEdge => ("EBPF-V009", "loop (back-edge) not allowed"),
            Code::UnreachableInsn => ("EBPF-V010", "unreachable instruction"),
            Code::JumpIntoLdImm64 => ("EBPF-V011", "jump into the middle of an ld_imm64"),
            Code::BadInstruction => ("EBPF-V012", "invalid or unsupported instruction"),
            Code::BadMapReference => ("EBPF-V013", "reference to a map that does not exist"),
            Code::DirectValueAccess => (
                "EBPF-V014",
                "ld_imm64 of a map value the map does not allow",
            ),
            Code::UninitRegister => ("EBPF-V101", "register read before it was written"),
            Code::FramePointerReadOnly => ("EBPF-V102", "write to the frame pointer r10"),
            Code::DivByZero => ("EBPF-V103", "division by the constant zero"),
            Code::InvalidShift => ("EBPF-V104", "shift amount too large"),
            Code::PtrArithOperator => ("EBPF-V201", "operator not allowed on a pointer"),
            Code::PtrWithPtr => ("EBPF-V202", "arithmetic between two pointers"),
            Code::PtrArithOnType => ("EBPF-V203", "arithmetic on a pointer that allows none"),
            Code::UnboundedPtrMath => ("EBPF-V204", "pointer plus an unbounded offset"),
            Code::PtrOffsetTooLarge => ("EBPF-V205", "pointer offset too large"),
            Code::NegativeIndex => ("EBPF-V206", "index may be negative"),
            Code::DerefScalar => ("EBPF-V301", "dereference of a number, not a pointer"),
            Code::MaybeNull => ("EBPF-V302", "pointer used before its NULL check"),
            Code::BadDerefType => ("EBPF-V303", "pointer that cannot be dereferenced"),
            Code::PktOutOfRange => ("EBPF-V304", "packet access not proven in bounds"),
            Code::CtxAccess => ("EBPF-V305", "invalid context access"),
            Code::CtxModified => ("EBPF-V306", "context access through a moved pointer"),
            Code::AtomicStore => ("EBPF-V307", "atomic operation on memory that forbids it"),
            Code::MapValueRange => ("EBPF-V308", "map value access out of bounds"),
            Code::MemRange => ("EBPF-V309", "memory access out of bounds"),
            Code::RegionRange => ("EBPF-V310", "access outside the allowed memory range"),
            Code::StackOutOfBounds => ("EBPF-V311", "stack access outside the 512-byte frame"),
            Code::Misaligned => ("EBPF-V312", "misaligned access"),
            Code::StackVariableOffset => ("EBPF-V313", "stack access at a variable offset"),
            Code::StackUninit => ("EBPF-V314", "read of uninitialised stack"),
            Code::SpillSize => ("EBPF-V315", "partial spill or fill of a pointer"),
            Code::StackOfReturnedFrame => {
                ("EBPF-V316", "pointer to the stack of a returned function")
            }
            Code::UnknownHelper => ("EBPF-V401", "unknown helper"),
            Code::HelperUnavailable => ("EBPF-V402", "helper not available to this program type"),
            Code::GplOnly => ("EBPF-V403", "GPL-only helper in a non-GPL program"),
            Code::HelperNotAllowed => ("EBPF-V404", "helper not allowed here"),
            Code::HelperMightSleep => ("EBPF-V405", "sleeping helper in a non-sleepable program"),
            Code::HelperArgType => ("EBPF-V406", "wrong type of helper argument"),
            Code::HelperArgConst => ("EBPF-V407", "helper argument must be a constant"),
            Code::HelperZeroSize => ("EBPF-V408", "helper size argument may be zero"),
            Code::HelperSizeUnbounded => ("EBPF-V409", "helper size argument unbounded"),
            Code::HelperMapType => ("EBPF-V410", "helper does not take this kind of map"),
            Code::CallTooDeep => ("EBPF-V411", "call chain too deep"),
            Code::StackTooLarge => ("EBPF-V412", "combined stack too large"),
            Code::MissingFuncInfo => ("EBPF-V413", "BTF function records needed"),
            Code::LdAbs => (
                "EBPF-V317",
                "classic packet load (LD_ABS/LD_IND) not usable here",
            ),
            Code::PacketReadOnly => ("EBPF-V318", "packet is read-only for this program type"),
            Code::SockAccess => ("EBPF-V319", "invalid socket field access"),
            Code::MapAccessType => ("EBPF-V320", "map not writable (or readable) by programs"),
            Code::SpinLock => ("EBPF-V414", "spin lock misuse"),
            Code::ReturnRange => ("EBPF-V501", "return value out of range"),
            Code::ReturnNotScalar => ("EBPF-V502", "return value is not a number"),
            Code::ReferenceLeak => ("EBPF-V503", "reference not released"),
            Code::ReleaseUnacquired => ("EBPF-V504", "release of an unacquired reference"),
            Code::TooComplex => ("EBPF-V601", "program too complex to verify"),
            Code::InfiniteLoop => ("EBPF-V602", "infinite loop"),
            Code::NotModeled => ("EBPF-V901", "not modelled by this verifier"),
            Code::Other => ("EBPF-V999", "other refusal"),
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A classified refusal: its code and what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    /// The kind of refusal.
    pub code: Code,
    /// What to change in the program, with the message's numbers where
    /// they help.
    pub hint: String,
}

impl Diagnosis {
    fn new(code: Code, hint: impl Into<String>) -> Self {
        Diagnosis {
            code,
            hint: hint.into(),
        }
    }
}

/// Classifies the kernel's error line `message` (the verifier's
/// [`Refusal::message`](crate::check::Refusal)) and writes a hint.
///
/// A line no family matches gets [`Code::Other`] and a generic hint.
///
/// ```
/// use ebpf_verifier::diag::{Code, diagnose};
///
/// let d = diagnose("invalid access to map value, value_size=8 off=8 size=8");
/// assert_eq!(d.code, Code::MapValueRange);
/// assert!(d.hint.contains("off+size <= 8"));
/// assert_eq!(diagnose("R1 !read_ok").code, Code::UninitRegister);
/// ```
#[must_use]
pub fn diagnose(message: &str) -> Diagnosis {
    let m = message.trim();
    structure(m)
        .or_else(|| registers(m))
        .or_else(|| pointer_arith(m))
        .or_else(|| memory(m))
        .or_else(|| stack(m))
        .or_else(|| helpers(m))
        .or_else(|| exit(m))
        .or_else(|| limits(m))
        .unwrap_or_else(|| {
            Diagnosis::new(
                Code::Other,
                "no specific advice for this message: the instruction and the register \
                 states printed just above it in the verifier log show what the verifier \
                 knew when it refused",
            )
        })
}

/// Like [`diagnose`], with the verifier log the error line ends: where the
/// kernel prints a detail line just before the error (`invalid access to
/// packet, off=O size=S, ...` before `R%d offset is outside of the
/// packet`, `invalid access to map value, ...` before `R%d min value is
/// outside of the allowed memory range`, `Unreleased reference id=I
/// alloc_insn=N` before `... would lead to reference leak`), the diagnosis
/// is the detail line's, whose hint has the numbers; `R0 !read_ok` at an
/// `exit` asks for a return value.
///
/// ```
/// use ebpf_verifier::diag::{Code, diagnose_with_log};
///
/// let log = "1: (71) r0 = *(u8 *)(r2 +0)\n\
///            invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)\n\
///            R2 offset is outside of the packet\n";
/// let d = diagnose_with_log("R2 offset is outside of the packet", log);
/// assert_eq!(d.code, Code::PktOutOfRange);
/// assert!(d.hint.contains("if (data + 1 > data_end)"));
/// ```
#[must_use]
pub fn diagnose_with_log(message: &str, log: &str) -> Diagnosis {
    let d = diagnose(message);
    let m = message.trim();
    let lines: Vec<&str> = log.lines().map(str::trim).collect();
    let Some(at) = lines.iter().rposition(|l| *l == m) else {
        return d;
    };
    let Some(prev) = lines[..at].iter().rev().find(|l| !l.is_empty()) else {
        return d;
    };
    match d.code {
        Code::PktOutOfRange | Code::ReferenceLeak | Code::RegionRange => {
            let p = diagnose(prev);
            let refines = matches!(
                (d.code, p.code),
                (Code::PktOutOfRange, Code::PktOutOfRange)
                    | (Code::ReferenceLeak, Code::ReferenceLeak)
                    | (
                        Code::RegionRange,
                        Code::MapValueRange | Code::MemRange | Code::PktOutOfRange
                    )
            );
            if !refines {
                return d;
            }
            if d.code == Code::RegionRange && m.contains(" max value ") {
                let hint = format!(
                    "{} (the offset printed is the largest the variable part can reach: \
                     tighten the bound on the index)",
                    p.hint
                );
                return Diagnosis::new(p.code, hint);
            }
            p
        }
        Code::UninitRegister if m.starts_with("R0 ") && prev.ends_with(") exit") => Diagnosis::new(
            Code::UninitRegister,
            "R0 is the return value and this path reaches `exit` without setting it: \
                 set it on every path (`r0 = 0` before `exit`, `return 0;` in C)",
        ),
        _ => d,
    }
}

// ---------------------------------------------------------------- parsing

/// The signed decimal at the start of `s`, and what follows it.
fn leading_int(s: &str) -> Option<(i64, &str)> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let (num, rest) = digits.split_at(end);
    if num.is_empty() {
        return None;
    }
    let v: i128 = num.parse().ok()?;
    let v = if neg { v.checked_neg()? } else { v };
    Some((i64::try_from(v).ok()?, rest))
}

/// The number right after the first `key` in `s` (`key` includes the
/// `=`, e.g. `"off="`).
fn field(s: &str, key: &str) -> Option<i64> {
    let (_, after) = s.split_once(key)?;
    leading_int(after).map(|(v, _)| v)
}

/// `R<n> <rest>`: the register number and the rest.
fn reg_prefix(s: &str) -> Option<(i64, &str)> {
    let (n, rest) = leading_int(s.strip_prefix('R')?)?;
    Some((n, rest.strip_prefix(' ')?))
}

/// The text between `open` and the next `close` after it.
fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let (_, after) = s.split_once(open)?;
    Some(after.split_once(close)?.0)
}

// ------------------------------------------------------------- families

fn structure(m: &str) -> Option<Diagnosis> {
    if m == "program has no instructions" {
        return Some(Diagnosis::new(
            Code::EmptyProgram,
            "the program has no instruction: it needs at least one, and must end with `exit`",
        ));
    }
    if let Some(rest) = m.strip_prefix("program of ")
        && rest.contains("insns is larger than the limit of")
    {
        let len = leading_int(rest).map(|(v, _)| v);
        let limit = field(rest, "limit of ");
        let mut hint = match (len, limit) {
            (Some(len), Some(limit)) => format!(
                "the program has {len} instructions and the limit is {limit}: split it \
                     into programs chained with bpf_tail_call, or move repeated code into \
                     bpf-to-bpf functions"
            ),
            _ => "the program has more instructions than the kernel allows: split it into \
                      programs chained with bpf_tail_call"
                .to_owned(),
        };
        if limit == Some(4096) {
            hint.push_str("; loading with CAP_BPF raises the limit to 1000000");
        }
        return Some(Diagnosis::new(Code::ProgramTooLong, hint));
    }
    if m.starts_with("loading/calling other bpf or kernel functions are allowed for") {
        return Some(Diagnosis::new(
            Code::CallsNeedCapBpf,
            "bpf-to-bpf calls and kfunc calls need CAP_BPF (or CAP_SYS_ADMIN): load with that \
             capability, or inline the called function (`static __always_inline`)",
        ));
    }
    if m == "call to invalid destination" {
        return Some(Diagnosis::new(
            Code::InvalidCallTarget,
            "a `call pc+N` targets a slot outside the program: the called function was not \
             linked into this program, or a hand-written call offset is wrong (it counts from \
             the next instruction)",
        ));
    }
    if m == "too many subprograms" {
        return Some(Diagnosis::new(
            Code::TooManySubprograms,
            "a program may have at most 256 functions, counting the main one: inline small \
             functions (`static __always_inline`)",
        ));
    }
    if let Some(rest) = m.strip_prefix("jump out of range from insn ") {
        let hint = match leading_int(rest) {
            Some((from, tail)) => match field(tail, " to ") {
                Some(to) => format!(
                    "the jump at insn {from} targets insn {to}, outside its own function: a \
                     jump may only land inside the function it belongs to (call other \
                     functions with `call`); check hand-written offsets, `goto pc+N` counts \
                     from the next instruction, insn {}",
                    from.saturating_add(1)
                ),
                None => jump_generic(),
            },
            None => jump_generic(),
        };
        return Some(Diagnosis::new(Code::JumpOutOfRange, hint));
    }
    if m == "last insn is not an exit or jmp" {
        return Some(Diagnosis::new(
            Code::FallsOffEnd,
            "the last instruction of every function must be `exit` or an unconditional \
             `goto`, so control cannot run into the next function: end it with `exit` (after \
             setting r0)",
        ));
    }
    if let Some(rest) = m.strip_prefix("invalid insn idx ") {
        let hint = match leading_int(rest) {
            Some((n, _)) => format!(
                "execution reaches insn {n}, past the end of the program: make sure every path \
                 ends with `exit`"
            ),
            None => "execution runs past the end of the program: make sure every path ends \
                     with `exit`"
                .to_owned(),
        };
        return Some(Diagnosis::new(Code::FallsOffEnd, hint));
    }
    if let Some(rest) = m.strip_prefix("no jump tables found for subprog starting at ") {
        let at = leading_int(rest).map_or_else(String::new, |(n, _)| format!(" (at insn {n})"));
        return Some(Diagnosis::new(
            Code::JumpTable,
            format!(
                "the function starting{at} has an indirect jump (`gotox`) but no jump table: \
                 emit the jump table (a `.jumptables` entry) for it, or use a `switch` the \
                 compiler lowers to plain jumps"
            ),
        ));
    }
    if m.starts_with("jump table for insn ") && m.contains("points outside of the subprog") {
        let range = between(m, "subprog [", "]").unwrap_or("?");
        return Some(Diagnosis::new(
            Code::JumpTable,
            format!(
                "every entry of a `gotox` jump table must lie inside the jump's own function, \
                 slots [{range}) here: fix the table's entries"
            ),
        ));
    }
    if let Some(rest) = m.strip_prefix("back-edge from insn ") {
        let hint = match leading_int(rest) {
            Some((from, tail)) => match field(tail, " to ") {
                Some(to) => format!(
                    "insn {from} jumps back to insn {to}: that is a loop, and loops are only \
                     allowed with CAP_BPF (bounded loops); load with CAP_BPF, or unroll the \
                     loop (`#pragma unroll` with a constant trip count)"
                ),
                None => back_edge_generic(),
            },
            None => back_edge_generic(),
        };
        return Some(Diagnosis::new(Code::BackEdge, hint));
    }
    if let Some(rest) = m.strip_prefix("unreachable insn ") {
        let hint = match leading_int(rest) {
            Some((n, _)) => format!(
                "no path from the entry reaches insn {n}: the kernel refuses dead code instead \
                 of ignoring it; remove it, or fix the jump that was meant to reach it"
            ),
            None => "some instruction is reached by no path: remove the dead code".to_owned(),
        };
        return Some(Diagnosis::new(Code::UnreachableInsn, hint));
    }
    if let Some(rest) = m.strip_prefix("jump into the middle of ldimm64 insn ") {
        let hint = match leading_int(rest) {
            Some((n, _)) => match n.checked_add(2) {
                Some(after) => format!(
                    "a jump lands on the second half of the 16-byte `ld_imm64` at insn {n}: the \
                     jump offset is off by one, target insn {n} or insn {after}"
                ),
                None => ldimm64_generic(),
            },
            None => ldimm64_generic(),
        };
        return Some(Diagnosis::new(Code::JumpIntoLdImm64, hint));
    }
    if m.starts_with("unsupported instruction")
        || m.starts_with("unsupported ld_imm64 source")
        || m.starts_with("unknown opcode")
        || m.starts_with("invalid BPF_")
        || m.contains("uses reserved fields")
    {
        return Some(Diagnosis::new(
            Code::BadInstruction,
            "the instruction is malformed or not supported: check its opcode and that its \
             unused fields are zero; newer instructions (may_goto, gotox, arena and \
             address-space casts) need a newer kernel and are not all modelled by this verifier",
        ));
    }
    if let Some(rest) = m.strip_prefix("fd_idx ")
        && rest.ends_with("is out of bounds")
    {
        let n = leading_int(rest).map_or_else(String::new, |(n, _)| format!(" #{n}"));
        return Some(Diagnosis::new(
            Code::BadMapReference,
            format!(
                "the `ld_imm64` here refers to map{n}, which the object does not define: \
                     check the map relocations (every map the code uses must be in the \
                     object's maps section)"
            ),
        ));
    }
    if let Some(rest) = m.strip_prefix("invalid access to map value pointer, ") {
        let hint = match (field(rest, "value_size="), field(rest, "off=")) {
            (Some(vs), Some(off)) if off >= vs => format!(
                "the `ld_imm64` takes the address of byte {off} of a {vs}-byte map value: \
                 global data and direct value addresses must fall inside the value"
            ),
            _ => "the address of a map value can be loaded directly (`ld_imm64`, global \
                  data) only from an array map with exactly one element (max_entries=1)"
                .to_owned(),
        };
        return Some(Diagnosis::new(Code::DirectValueAccess, hint));
    }
    if m == "no direct value access support for this map type"
        || (m.starts_with("direct value offset of ") && m.ends_with("is not allowed"))
    {
        return Some(Diagnosis::new(
            Code::DirectValueAccess,
            "only an array map with one element gives its value's address to `ld_imm64` \
             (that is how global data works): look other maps' values up with \
             bpf_map_lookup_elem",
        ));
    }
    if m.starts_with("pseudo btf_id ") || m.contains("specifies invalid btf_id") {
        return Some(Diagnosis::new(
            Code::BadInstruction,
            "an `ld_imm64` of a BTF id must name a variable (`__ksym`) or function of the \
             kernel's BTF: check the extern's name against the running kernel \
             (/sys/kernel/btf/vmlinux)",
        ));
    }
    if m.starts_with("fd ") && m.contains("is not pointing to valid bpf_map") {
        return Some(Diagnosis::new(
            Code::BadMapReference,
            "the `ld_imm64` here refers to a file descriptor that is not a map: check the map \
             relocations and that the map was created before the program was loaded",
        ));
    }
    None
}

fn jump_generic() -> String {
    "a jump targets an instruction outside its own function: check hand-written offsets \
     (`goto pc+N` counts from the next instruction)"
        .to_owned()
}

fn back_edge_generic() -> String {
    "the program has a loop, which needs CAP_BPF: load with it, or unroll the loop".to_owned()
}

fn ldimm64_generic() -> String {
    "a jump lands on the second half of a 16-byte `ld_imm64`: the jump offset is off by one"
        .to_owned()
}

fn registers(m: &str) -> Option<Diagnosis> {
    if let Some((r, rest)) = reg_prefix(m)
        && rest == "!read_ok"
    {
        let hint = if r == 0 {
            "R0 is read before anything was written to it: at `exit` R0 is the return \
                 value, so set it on every path (`r0 = 0` before `exit`, `return 0;` in C)"
                .to_owned()
        } else {
            format!(
                "R{r} is read before anything was written to it (on this path): initialise \
                     it, or after a call remember that r1-r5 are clobbered (keep values that \
                     must survive a call in r6-r9 or on the stack)"
            )
        };
        return Some(Diagnosis::new(Code::UninitRegister, hint));
    }
    if m == "frame pointer is read only" {
        return Some(Diagnosis::new(
            Code::FramePointerReadOnly,
            "r10 (the frame pointer) cannot be written: copy it and change the copy \
             (`r1 = r10; r1 += -8`)",
        ));
    }
    if m == "div by zero" {
        return Some(Diagnosis::new(
            Code::DivByZero,
            "the divisor is the constant 0: divide by a non-zero constant (a register that is \
             0 at run time is allowed: `/` then gives 0 and `%` leaves the dividend)",
        ));
    }
    if let Some(rest) = m.strip_prefix("invalid shift ") {
        let hint = match leading_int(rest) {
            Some((n, _)) if (32..64).contains(&n) => format!(
                "a shift by {n} is only valid on a 64-bit register (rN): a 32-bit shift (wN) \
                 takes amounts 0..31; shift the 64-bit register, or mask the amount (`& 31`)"
            ),
            Some((n, _)) => format!(
                "a shift by {n} is out of range: amounts must be 0..63 for 64-bit registers \
                 (rN) and 0..31 for 32-bit ones (wN); shift by less, or mask the amount"
            ),
            None => "the shift amount must be 0..63 (0..31 for 32-bit registers)".to_owned(),
        };
        return Some(Diagnosis::new(Code::InvalidShift, hint));
    }
    None
}

fn pointer_arith(m: &str) -> Option<Diagnosis> {
    if let Some((r, rest)) = reg_prefix(m) {
        if let Some(op) = rest
            .strip_prefix("pointer arithmetic with ")
            .and_then(|s| s.strip_suffix(" operator prohibited"))
        {
            return Some(Diagnosis::new(
                Code::PtrArithOperator,
                format!(
                    "R{r} holds a pointer and `{op}` is not allowed on pointers: only adding or \
                     subtracting a number is; compute on a scalar offset and add that to the \
                     pointer"
                ),
            ));
        }
        if let Some(op) = rest
            .strip_prefix("bitwise operator ")
            .and_then(|s| s.strip_suffix(" on pointer prohibited"))
        {
            return Some(Diagnosis::new(
                Code::PtrArithOperator,
                format!(
                    "R{r} holds a pointer and bitwise `{op}` is not allowed on pointers (no \
                     alignment tricks): compute on a scalar offset and add that to the pointer"
                ),
            ));
        }
        if rest == "32-bit pointer arithmetic prohibited" {
            return Some(Diagnosis::new(
                Code::PtrArithOperator,
                format!(
                    "R{r} holds a pointer and 32-bit (wN) arithmetic would cut it: use the \
                     64-bit form (`r{r} += ...`, not `w{r} += ...`)"
                ),
            ));
        }
        if rest == "sign-extension part of pointer" {
            return Some(Diagnosis::new(
                Code::PtrArithOperator,
                format!(
                    "R{r} holds a pointer and a sign-extending move (`movsx`) would change it: \
                     copy pointers with a plain 64-bit move"
                ),
            ));
        }
        if rest == "pointer arithmetic prohibited" {
            return Some(Diagnosis::new(
                Code::PtrArithOperator,
                format!(
                    "R{r} holds a pointer and this operation is not allowed on pointers: only \
                     64-bit `+=`/`-=` of a number is; compute on a scalar instead"
                ),
            ));
        }
        if rest == "tried to subtract pointer from scalar" {
            return Some(Diagnosis::new(
                Code::PtrWithPtr,
                format!(
                    "R{r} is a number and a pointer is subtracted from it: write `pointer - \
                     number` (or subtract two pointers into the same object) instead"
                ),
            ));
        }
        if let Some(op) = rest
            .strip_prefix("pointer ")
            .and_then(|s| s.strip_suffix(" pointer prohibited"))
        {
            return Some(Diagnosis::new(
                Code::PtrWithPtr,
                format!(
                    "R{r} and the source are both pointers and `pointer {op} pointer` is not \
                     allowed: add a number (an offset) to one pointer; to get a distance, \
                     subtract two pointers into the same object"
                ),
            ));
        }
        if let Some(ty) = rest
            .strip_prefix("pointer arithmetic on ")
            .and_then(|s| s.strip_suffix(" prohibited, null-check it first"))
        {
            return Some(Diagnosis::new(Code::MaybeNull, null_hint(r, ty)));
        }
        if let Some(ty) = rest
            .strip_prefix("pointer arithmetic on ")
            .and_then(|s| s.strip_suffix(" prohibited"))
        {
            if ty.ends_with("_or_null") {
                return Some(Diagnosis::new(Code::MaybeNull, null_hint(r, ty)));
            }
            let hint = match ty {
                "map_ptr" => format!(
                    "R{r} is a map (`&map`), a handle rather than memory, so it cannot be \
                     moved: look a value up with bpf_map_lookup_elem and add the offset to the \
                     value pointer"
                ),
                "pkt_end" => format!(
                    "R{r} is data_end, which may only be compared against: add the offset to \
                     the packet pointer instead (`if (data + N > data_end)`)"
                ),
                _ => format!(
                    "R{r} is a {ty} pointer, on which no arithmetic is allowed: use it as it is \
                     (pass it, or dereference it at a constant offset)"
                ),
            };
            return Some(Diagnosis::new(Code::PtrArithOnType, hint));
        }
        if let Some((ty, off)) = rest
            .strip_suffix(" is not allowed")
            .and_then(|s| s.split_once(" pointer offset "))
        {
            return Some(Diagnosis::new(
                Code::PtrOffsetTooLarge,
                format!(
                    "the offset {off} added to R{r} ({ty}) is too large: pointer offsets must \
                     stay within +/-(1 << 29); index from a closer pointer"
                ),
            ));
        }
        if rest.starts_with("min value is negative") {
            return Some(Diagnosis::new(
                Code::NegativeIndex,
                format!(
                    "R{r} may be negative here: make the index unsigned, or check it first \
                     (`if (index < 0) return ...;`)"
                ),
            ));
        }
    }
    if let Some(ty) = m
        .strip_prefix("math between ")
        .and_then(|s| s.split_once(" pointer and register with unbounded "))
        .map(|(ty, _)| ty)
    {
        let min = m.contains("unbounded min value");
        let side = if min {
            "no lower bound (it may be negative)"
        } else {
            "no upper bound"
        };
        return Some(Diagnosis::new(
            Code::UnboundedPtrMath,
            format!(
                "the offset added to this {ty} pointer has {side}: bound it before adding it, \
                 e.g. `if (idx < 0 || idx >= N) return 0;`, or use an unsigned index, or mask \
                 it (`idx &= N - 1`)"
            ),
        ));
    }
    if let Some((ty, v)) = m
        .strip_prefix("math between ")
        .and_then(|s| s.strip_suffix(" is not allowed"))
        .and_then(|s| s.split_once(" pointer and "))
    {
        return Some(Diagnosis::new(
            Code::PtrOffsetTooLarge,
            format!(
                "adding {v} to a {ty} pointer leaves the range the verifier tracks \
                 (+/-(1 << 29)): index from a closer pointer, with a bounded offset"
            ),
        ));
    }
    if let Some((ty, off)) = m
        .strip_suffix(" is not allowed")
        .and_then(|s| s.split_once(" pointer offset "))
        .filter(|(ty, _)| !ty.starts_with('R'))
    {
        return Some(Diagnosis::new(
            Code::PtrOffsetTooLarge,
            format!(
                "the {ty} pointer's offset {off} is too large: pointer offsets must stay within \
                 +/-(1 << 29)"
            ),
        ));
    }
    if let Some((r, rest)) = reg_prefix(m)
        && rest == "subtraction from stack pointer prohibited"
    {
        return Some(Diagnosis::new(
            Code::PtrArithOnType,
            format!(
                "R{r} is a stack pointer, which may only move by adding: write `r{r} += -8`, \
                 not `r{r} -= 8`"
            ),
        ));
    }
    if let Some(rest) = m.strip_prefix("value ")
        && let Some(ty) = between(rest, " makes ", " pointer be out of bounds")
    {
        let v = leading_int(rest).map_or_else(String::new, |(v, _)| format!(" {v}"));
        return Some(Diagnosis::new(
            Code::PtrOffsetTooLarge,
            format!(
                "adding{v} takes the {ty} pointer out of the range the verifier tracks \
                     (+/-(1 << 29)): bound the offset with a check first"
            ),
        ));
    }
    None
}

/// The hint for a spin lock rule, if `m` is one.
fn spin_lock_hint(m: &str) -> Option<String> {
    let hint = if m == "function calls are not allowed while holding a lock" {
        "no helper or kfunc may be called between bpf_spin_lock and bpf_spin_unlock: compute \
         what you need (bpf_ktime_get_ns(), lookups) before taking the lock"
    } else if m.ends_with("cannot be used inside bpf_spin_lock-ed region") {
        "the lock is still held here: call bpf_spin_unlock on every path before returning \
         (early returns included)"
    } else if m == "bpf_spin_lock cannot be accessed directly by load/store" {
        "the struct bpf_spin_lock field may only be passed to bpf_spin_lock and \
         bpf_spin_unlock: do not read, write or copy it (copy the other fields one by one)"
    } else if m == "Locking two bpf_spin_locks are not allowed" {
        "only one spin lock may be held at a time: unlock the first before taking the second"
    } else if m == "bpf_spin_unlock without taking a lock"
        || m == "bpf_spin_unlock of different lock"
    {
        "unlock exactly the lock this path took, with the same pointer it was taken with"
    } else if m.contains("doesn't point to 'struct bpf_spin_lock'")
        || m.contains("has to be at the constant offset")
    {
        "pass the address of the value's struct bpf_spin_lock field itself (`&val->lock`)"
    } else if m.ends_with("cannot use bpf_spin_lock yet") {
        "this program type may not use a map whose value holds a struct bpf_spin_lock: use \
         atomics (__sync_fetch_and_add) instead, or move the update to a tc, XDP or cgroup \
         program"
    } else if m.contains("bpf_spin_lock") && m.starts_with("map ") {
        "the map's value type (in its BTF) must contain a struct bpf_spin_lock: declare the \
         map with __type(value, struct with_lock) and load the object with its BTF"
    } else {
        return None;
    };
    Some(hint.to_owned())
}

fn null_hint(r: i64, ty: &str) -> String {
    if ty.starts_with("map_value") {
        format!(
            "R{r} may be NULL: check the pointer bpf_map_lookup_elem returned against NULL \
             before using it (`if (!value) return 0;`)"
        )
    } else if ty.starts_with("ringbuf_mem") {
        format!(
            "R{r} may be NULL: check the pointer bpf_ringbuf_reserve returned against NULL \
             before using it (`if (!e) return 0;`)"
        )
    } else {
        format!(
            "R{r} may be NULL ({ty}): compare it against 0 (`if (!p) return ...;`) before \
             dereferencing it or adding to it"
        )
    }
}

fn memory(m: &str) -> Option<Diagnosis> {
    if let Some((r, rest)) = reg_prefix(m) {
        if let Some(ty) = rest
            .strip_prefix("invalid mem access '")
            .and_then(|s| s.strip_suffix('\''))
        {
            if ty == "scalar" || ty == "inv" {
                return Some(Diagnosis::new(
                    Code::DerefScalar,
                    format!(
                        "R{r} holds a number, not a pointer, so it cannot be dereferenced: \
                         dereference only pointers the verifier knows (ctx, stack, map value, \
                         packet, ...); a pointer turns into a number through arithmetic it \
                         cannot follow, or a narrow spill and fill"
                    ),
                ));
            }
            if ty.ends_with("_or_null") {
                return Some(Diagnosis::new(Code::MaybeNull, null_hint(r, ty)));
            }
            let hint = match ty {
                "pkt_end" => format!(
                    "R{r} is data_end, which marks the end of the packet and cannot be read: \
                     compare packet pointers against it (`if (data + N > data_end)`) and read \
                     through the packet pointer"
                ),
                "map_ptr" => format!(
                    "R{r} is a map (`&map`), not its value: look the value up with \
                     bpf_map_lookup_elem and read through the pointer it returns"
                ),
                _ => format!(
                    "R{r} is a {ty} pointer, which cannot be dereferenced directly: pass it to \
                     the helper that works on it instead"
                ),
            };
            return Some(Diagnosis::new(Code::BadDerefType, hint));
        }
        if rest == "offset is outside of the packet" {
            return Some(Diagnosis::new(
                Code::PktOutOfRange,
                format!(
                    "prove the packet is long enough before reading through R{r}: compare \
                     against data_end first, e.g. `if (data + sizeof(struct ethhdr) > data_end) \
                     return XDP_DROP;` (the log line just above gives the offset and size)"
                ),
            ));
        }
        if rest == "min value is outside of the allowed memory range" {
            return Some(Diagnosis::new(
                Code::RegionRange,
                format!(
                    "the lowest address this access through R{r} can reach is outside the \
                     object: keep the offset >= 0 and offset + size within the object's size \
                     (the log line just above gives both)"
                ),
            ));
        }
        if rest == "max value is outside of the allowed memory range" {
            return Some(Diagnosis::new(
                Code::RegionRange,
                format!(
                    "the index added to R{r} can be too large: bound it before adding it \
                     (`if (idx >= N) return 0;` with N = object size / element size, or mask \
                     it)"
                ),
            ));
        }
        if rest.starts_with("unbounded memory access, make sure to bounds check") {
            return Some(Diagnosis::new(
                Code::RegionRange,
                format!(
                    "the offset in R{r} has no upper bound: check it against the object's size \
                     before the access (`if (idx >= N) return 0;`)"
                ),
            ));
        }
    }
    if let Some(hint) = spin_lock_hint(m) {
        return Some(Diagnosis::new(Code::SpinLock, hint));
    }
    if m.starts_with("write into map forbidden") || m.starts_with("read from map forbidden") {
        let hint = if m.starts_with("write") {
            "the map is read-only for programs (BPF_F_RDONLY_PROG: `const` global data, \
             .rodata): copy the value to the stack and change the copy, or keep what changes \
             in a writable map"
        } else {
            "the map is write-only for programs (BPF_F_WRONLY_PROG): keep what the program \
             must read in another map"
        };
        return Some(Diagnosis::new(Code::MapAccessType, hint));
    }
    if m.starts_with("invalid access to packet") {
        return Some(Diagnosis::new(Code::PktOutOfRange, packet_hint(m)));
    }
    if let Some((r, rest)) = reg_prefix(m) {
        if let Some(ty) = rest.strip_prefix("cannot write into ") {
            return Some(Diagnosis::new(
                Code::SockAccess,
                format!(
                    "R{r} is a {ty}, which programs may only read: change socket state through \
                     the helpers made for it (bpf_setsockopt, bpf_sk_storage_get, ...)"
                ),
            ));
        }
        let sock = ["sock", "sock_common", "tcp_sock"].iter().find_map(|t| {
            rest.strip_prefix(&format!("invalid {t} access "))
                .map(|fields| (*t, fields))
        });
        if let Some((ty, fields)) = sock {
            let (off, size) = (field(fields, "off="), field(fields, " size="));
            let what = match ty {
                "tcp_sock" => "struct bpf_tcp_sock has no field of this size at this offset: \
                               read its fields by name with their declared size (all are \
                               4 bytes but bytes_received and bytes_acked, 8)"
                    .to_owned(),
                "sock_common" => "a sock_common (from skb->sk or bpf_skc_lookup_tcp) has no \
                                  such field: type, protocol, mark and priority need a full \
                                  socket (`sk = bpf_sk_fullsock(sk); if (!sk) return ...;`), \
                                  and other fields are read by name with their declared size"
                    .to_owned(),
                _ => "struct bpf_sock has no field of this size at this offset: read its \
                      fields by name with their declared size (the addresses and dst_port \
                      may also be read in narrower pieces)"
                    .to_owned(),
            };
            let at = match (off, size) {
                (Some(o), Some(n)) => format!(" ({n} bytes at offset {o} of R{r})"),
                _ => String::new(),
            };
            return Some(Diagnosis::new(Code::SockAccess, format!("{what}{at}")));
        }
    }
    if let Some(rest) = m.strip_prefix("invalid bpf_context access ") {
        let hint = match (field(rest, "off="), field(rest, " size=")) {
            (Some(off), Some(size)) => format!(
                "this program type's context has no field that may be accessed with {size} \
                 bytes at offset {off}: access the context struct's fields by name with their \
                 declared size (`ctx->data`); some fields are read-only and some exist only \
                 for some attach types"
            ),
            _ => "access the context struct's fields by name with their declared size".to_owned(),
        };
        return Some(Diagnosis::new(Code::CtxAccess, hint));
    }
    if let Some(rest) = m.strip_prefix("dereference of modified ctx ptr ") {
        let hint = match (reg_num(rest), field(rest, "off=")) {
            (Some(r), Some(off)) => format!(
                "read context fields through the unmodified ctx pointer at a constant offset: \
                 `*(u32 *)(r{r} + {off})`, not `r{r} += {off}` then `*(u32 *)(r{r} + 0)` (in C, \
                 access `ctx->field` directly; the compiler moved the pointer)"
            ),
            _ => "read context fields through the unmodified ctx pointer at a constant offset"
                .to_owned(),
        };
        return Some(Diagnosis::new(Code::CtxModified, hint));
    }
    if m.starts_with("variable ctx access var_off=") {
        return Some(Diagnosis::new(
            Code::CtxModified,
            "context fields must be accessed at constant offsets: no index into the context; \
             read the field you need by name",
        ));
    }
    if let Some(rest) = m
        .strip_prefix("BPF_ATOMIC stores into ")
        .or_else(|| m.strip_prefix("BPF_ATOMIC loads from "))
        && let Some((r, ty)) =
            reg_prefix(rest).and_then(|(r, s)| s.strip_suffix(" is not allowed").map(|ty| (r, ty)))
    {
        return Some(Diagnosis::new(
            Code::AtomicStore,
            format!(
                "R{r} is a {ty} pointer and atomic operations are only allowed on the \
                     stack, map values and similar memory: use a plain load and store here, or \
                     keep the counter in a map value"
            ),
        ));
    }
    if let Some(rest) = m.strip_prefix("invalid access to map value, ") {
        let hint = match (
            field(rest, "value_size="),
            field(rest, "off="),
            field(rest, " size="),
        ) {
            (Some(vs), Some(off), Some(size)) => region_hint("map value", "", vs, off, size),
            _ => "keep every access inside the map value: off+size <= value_size".to_owned(),
        };
        return Some(Diagnosis::new(Code::MapValueRange, hint));
    }
    if let Some(rest) = m.strip_prefix("invalid access to memory, ") {
        let hint = match (
            field(rest, "mem_size="),
            field(rest, "off="),
            field(rest, " size="),
        ) {
            (Some(ms), Some(off), Some(size)) => region_hint(
                "memory",
                " (for a ring buffer record, the size passed to bpf_ringbuf_reserve)",
                ms,
                off,
                size,
            ),
            _ => "keep every access inside the memory: off+size <= mem_size".to_owned(),
        };
        return Some(Diagnosis::new(Code::MemRange, hint));
    }
    None
}

/// `R<n>` at the start of `s`.
fn reg_num(s: &str) -> Option<i64> {
    leading_int(s.strip_prefix('R')?).map(|(n, _)| n)
}

fn packet_hint(m: &str) -> String {
    let off = field(m, "off=");
    let size = field(m, " size=");
    let reg = m
        .split_once(", R")
        .and_then(|(_, s)| leading_int(s))
        .map(|(n, _)| n);
    let id = field(m, "(id=");
    let range = field(m, ",r=");
    let (Some(off), Some(size)) = (off, size) else {
        return "prove the packet is long enough before this access: compare against \
                data_end first"
            .to_owned();
    };
    if off < 0 {
        return format!(
            "the access starts {} bytes before the packet pointer: packet offsets must be >= 0",
            off.unsigned_abs()
        );
    }
    let Some(end) = off.checked_add(size) else {
        return "the access is far beyond any packet length".to_owned();
    };
    let base = match (reg, id) {
        (Some(r), Some(id)) if id != 0 => format!(
            "(void *)ptr + {end} > data_end) return ...;` before this access, where ptr is \
             R{r}'s packet pointer with its variable offset (id={id}): the check must be on \
             that same pointer"
        ),
        _ => format!("data + {end} > data_end) return ...;` before this access"),
    };
    let mut hint = format!("prove the packet is long enough: add `if ({base}");
    if let Some(r) = range {
        hint.push_str(&format!(
            " (the checks so far prove {r} bytes, this access needs {end})"
        ));
    }
    hint
}

fn region_hint(what: &str, note: &str, size_of: i64, off: i64, size: i64) -> String {
    if off < 0 {
        return format!(
            "the access starts {} bytes before the {what}: offsets must be >= 0; if the \
             offset comes from an index, check `index >= 0` (or make it unsigned)",
            off.unsigned_abs()
        );
    }
    let end = off.saturating_add(size);
    let mut hint = format!(
        "the {what} is {size_of} bytes{note} but this access covers bytes {off}..{end}: keep \
         off+size <= {size_of}"
    );
    let count = size_of.checked_div(size).unwrap_or(0);
    if count >= 2 {
        hint.push_str(&format!(
            "; if the offset comes from an index of {size}-byte elements, bound it first \
             (`if (idx >= {count}) return 0;`)"
        ));
    }
    hint
}

fn stack(m: &str) -> Option<Diagnosis> {
    // `invalid write to stack R10 off=-520 size=8`, `invalid read from
    // stack R10 off=...`, `invalid indirect access to stack R1 off=...`,
    // `invalid stack off=-520 size=8`: outside the frame.
    for prefix in [
        "invalid write to stack ",
        "invalid read from stack R",
        "invalid indirect access to stack ",
        "invalid stack off=",
    ] {
        if m.starts_with(prefix) && m.contains("off=") {
            let hint = match (field(m, "off="), field(m, " size=")) {
                (Some(off), Some(size)) => {
                    let end = off.saturating_add(size);
                    let mut h = format!(
                        "the stack is 512 bytes, r10-512 up to r10-1, and this access covers \
                         r10{off:+}..r10{end:+}"
                    );
                    if off >= 0 || end > 0 {
                        h.push_str(": stack offsets from r10 are negative, use r10-N");
                    } else {
                        h.push_str(
                            ": use less stack, or move large buffers to a per-CPU array map",
                        );
                    }
                    h
                }
                _ => {
                    "keep stack accesses inside the 512-byte frame, r10-512 up to r10-1".to_owned()
                }
            };
            return Some(Diagnosis::new(Code::StackOutOfBounds, hint));
        }
    }
    if let Some(rest) = m.strip_prefix("misaligned ")
        && let Some((kind, tail)) = rest.split_once("access off ")
    {
        let kind = kind.trim_end();
        let (parts, size) = match tail.split_once(" size ") {
            Some((parts, size)) => (parts, leading_int(size).map(|(v, _)| v)),
            None => (tail, None),
        };
        let total = parts.split('+').try_fold(0i64, |acc, p| {
            leading_int(p)
                .filter(|(_, rest)| rest.is_empty())
                .and_then(|(v, _)| acc.checked_add(v))
        });
        return Some(Diagnosis::new(
            Code::Misaligned,
            misaligned_hint(kind, total, size),
        ));
    }
    if m.starts_with("invalid variable-offset") || m.starts_with("variable-offset stack") {
        return Some(Diagnosis::new(
            Code::StackVariableOffset,
            "the stack offset here is not a constant: index stack arrays only with a bounded \
             index (the verifier needs every possible slot initialised), or keep indexed \
             buffers in a per-CPU array map",
        ));
    }
    if m.starts_with("invalid read from stack off ")
        || m.starts_with("invalid indirect read from stack ")
    {
        let place = between(m, "off ", " size").and_then(|p| {
            p.split('+').try_fold(0i64, |acc, x| {
                leading_int(x)
                    .filter(|(_, r)| r.is_empty())
                    .and_then(|(v, _)| acc.checked_add(v))
            })
        });
        let size = m
            .rsplit_once(" size ")
            .and_then(|(_, s)| leading_int(s))
            .map(|(v, _)| v);
        let at = match (place, size) {
            (Some(p), Some(s)) => format!(" ({s} bytes at r10{p:+})"),
            _ => String::new(),
        };
        return Some(Diagnosis::new(
            Code::StackUninit,
            format!(
                "the stack bytes read here{at} were not written on this path: initialise the \
                 buffer before reading it or passing it to a helper (`= {{}}` or \
                 `__builtin_memset(&buf, 0, sizeof(buf))`)"
            ),
        ));
    }
    if m == "invalid size of register spill" || m == "invalid size of register fill" {
        return Some(Diagnosis::new(
            Code::SpillSize,
            "a pointer can only be saved to and restored from the stack whole: use 8-byte \
             (u64) stores and loads at an 8-byte aligned slot",
        ));
    }
    if m == "cannot return stack pointer to the caller" {
        return Some(Diagnosis::new(
            Code::StackOfReturnedFrame,
            "a function returns a pointer into its own stack, which is gone once it returns: \
             return a value, or fill a buffer the caller passes in",
        ));
    }
    if let Some(rest) = m.strip_prefix("invalid access to flow keys ") {
        let at = match (field(rest, "off="), field(rest, " size=")) {
            (Some(o), Some(n)) => format!(" ({n} bytes at offset {o})"),
            _ => String::new(),
        };
        return Some(Diagnosis::new(
            Code::MemRange,
            format!(
                "the access falls outside struct bpf_flow_keys (56 bytes){at}: access its \
                 fields by name"
            ),
        ));
    }
    if m == "stack pointer into a returned frame" {
        return Some(Diagnosis::new(
            Code::StackOfReturnedFrame,
            "this pointer is into the stack of a function that has returned: do not return or \
             keep pointers to a callee's local variables; pass a buffer from the caller",
        ));
    }
    None
}

fn misaligned_hint(kind: &str, total: Option<i64>, size: Option<i64>) -> String {
    let (Some(total), Some(size)) = (total, size) else {
        return "the address is not a multiple of the access size: align the offset, or access \
                with a smaller size"
            .to_owned();
    };
    let what = if kind.is_empty() { "memory" } else { kind };
    let lower = total
        .checked_div_euclid(size)
        .and_then(|q| q.checked_mul(size));
    match (kind, lower) {
        ("stack", Some(lower)) => {
            let upper = lower.saturating_add(size);
            format!(
                "the {size}-byte access at r10{total:+} is not {size}-byte aligned: use an \
                 offset that is a multiple of {size} (r10{lower:+} or r10{upper:+}), or access \
                 with a smaller size"
            )
        }
        _ => format!(
            "the {size}-byte {what} access at offset {total} is not {size}-byte aligned (strict \
             alignment is on): use an aligned offset, or copy the bytes into an aligned local \
             first (`__builtin_memcpy`)"
        ),
    }
}

fn helpers(m: &str) -> Option<Diagnosis> {
    if m == "invalid zero-sized read" {
        return Some(Diagnosis::new(
            Code::HelperZeroSize,
            "the helper reads a map key or value of 0 bytes: queue, stack and bloom filter maps \
             have no key, so use bpf_map_push_elem, bpf_map_pop_elem and bpf_map_peek_elem on \
             them, not lookup, update or delete",
        ));
    }
    if let Some(rest) = m.strip_prefix("invalid func unknown#") {
        let id = leading_int(rest).map_or_else(String::new, |(v, _)| format!(" #{v}"));
        return Some(Diagnosis::new(
            Code::UnknownHelper,
            format!(
                "there is no helper{id} in this kernel: check the helper id (a helper newer than \
                 the kernel?), or call it through its name in the headers (`bpf_helper_defs.h`)"
            ),
        ));
    }
    let unavailable = m
        .strip_prefix("program of this type cannot use helper ")
        .or_else(|| m.strip_prefix("unknown func "));
    if let Some(name) = unavailable {
        return Some(Diagnosis::new(
            Code::HelperUnavailable,
            format!(
                "helper {name} is not available to this program type: use a helper this type \
                 may call, or a program type (section name) that offers {name}"
            ),
        ));
    }
    if m == "cannot call GPL-restricted function from non-GPL compatible program" {
        return Some(Diagnosis::new(
            Code::GplOnly,
            "this helper is GPL-only: declare a GPL-compatible license, \
             `char LICENSE[] SEC(\"license\") = \"GPL\";`",
        ));
    }
    if m == "helper call is not allowed in probe" {
        return Some(Diagnosis::new(
            Code::HelperNotAllowed,
            "this helper refuses to run from this program (its attach point or context): call \
             it from another program type or attach point",
        ));
    }
    if m == "helper call might sleep in a non-sleepable prog" {
        return Some(Diagnosis::new(
            Code::HelperMightSleep,
            "this helper may sleep: load the program as sleepable (a `.s` section such as \
             `SEC(\"lsm.s/...\")`, i.e. BPF_F_SLEEPABLE), or use a non-sleeping variant",
        ));
    }
    if let Some(rest) = m.strip_prefix("cannot pass map_type ") {
        let (ty, func) = match rest.split_once(" into func ") {
            Some((ty, func)) => (ty, func),
            None => (rest, "this helper"),
        };
        return Some(Diagnosis::new(
            Code::HelperMapType,
            format!(
                "{func} does not work on maps of type {ty}: use a map type the helper accepts \
                 (see its documentation), or another helper for this map"
            ),
        ));
    }
    if let Some((r, rest)) = reg_prefix(m) {
        if let Some((ty, expected)) = rest
            .strip_prefix("type=")
            .and_then(|s| s.split_once(" expected="))
        {
            return Some(Diagnosis::new(
                Code::HelperArgType,
                arg_type_hint(r, ty, expected),
            ));
        }
        if rest.starts_with("is not a known constant") {
            return Some(Diagnosis::new(
                Code::HelperArgConst,
                format!(
                    "argument R{r} must be a constant known when the program is loaded (a \
                     flags, size or map-key argument): pass a literal, not a computed value"
                ),
            ));
        }
        if let Some(range) = rest.strip_prefix("invalid zero-sized read") {
            let range = range
                .split_once("u64=")
                .map_or_else(String::new, |(_, r)| format!(" (its range is {r})"));
            return Some(Diagnosis::new(
                Code::HelperZeroSize,
                format!(
                    "the size argument R{r} may be 0{range}, and the helper needs at least 1 \
                     byte: check it first (`if (len == 0) return ...;`) or use a constant size"
                ),
            ));
        }
        if rest.starts_with("unbounded memory access, use") {
            return Some(Diagnosis::new(
                Code::HelperSizeUnbounded,
                format!(
                    "the size argument R{r} has no upper bound: clamp it before the call \
                     (`if (len > sizeof(buf)) len = sizeof(buf);` or `len &= 0xff`)"
                ),
            ));
        }
    }
    if m.starts_with("Possibly NULL pointer passed to") {
        return Some(Diagnosis::new(
            Code::MaybeNull,
            "this argument may be NULL: check it against NULL (`if (!p) return ...;`) before \
             the call",
        ));
    }
    if let Some(rest) = m.strip_prefix("the call stack of ") {
        let hint = match leading_int(rest) {
            Some((n, _)) => format!(
                "{n} nested calls exceed the kernel's limit of 8 frames: inline some functions \
                 (`static __always_inline`) or flatten the recursion"
            ),
            None => "nested calls exceed the kernel's limit of 8 frames: inline some functions"
                .to_owned(),
        };
        return Some(Diagnosis::new(Code::CallTooDeep, hint));
    }
    if let Some(rest) = m.strip_prefix("combined stack size of ") {
        let calls = leading_int(rest).map(|(v, _)| v);
        let bytes = field(rest, "calls is ");
        let hint = match (calls, bytes) {
            (Some(calls), Some(bytes)) => format!(
                "the {calls} functions of this call chain use {bytes} bytes of stack together, \
                 {} over the limit of 512: move large locals to a per-CPU array map, or shrink \
                 the frames on this chain",
                bytes.saturating_sub(512)
            ),
            _ => "the functions of this call chain use more than 512 bytes of stack together: \
                  move large locals to a per-CPU array map"
                .to_owned(),
        };
        return Some(Diagnosis::new(Code::StackTooLarge, hint));
    }
    None
}

fn arg_type_hint(r: i64, ty: &str, expected: &str) -> String {
    if ty.ends_with("_or_null") {
        return null_hint(r, ty);
    }
    let wants = |t: &str| expected.split(", ").any(|e| e == t);
    if wants("map_ptr") {
        return format!(
            "argument R{r} must be the map itself (`&my_map`, an `ld_imm64` map reference), \
             not a {ty}"
        );
    }
    if wants("fp") {
        return format!(
            "argument R{r} must point to memory the verifier knows (e.g. a stack buffer: \
             `r{r} = r10; r{r} += -8`, or `&local` in C), not a {ty}"
        );
    }
    if wants("ctx") {
        return format!(
            "argument R{r} must be the program's context (the ctx pointer the program got in r1), not a {ty}"
        );
    }
    format!("argument R{r} is a {ty} but the helper needs one of: {expected}")
}

fn exit(m: &str) -> Option<Diagnosis> {
    if m == "cannot write into packet" || m == "helper access to the packet is not allowed" {
        return Some(Diagnosis::new(
            Code::PacketReadOnly,
            "this program type may only read the packet (cgroup_skb, lwt_in, lwt_out, \
             lwt_seg6local, sk_reuseport, flow_dissector): change it with a helper this type \
             allows (bpf_skb_store_bytes where available), or use a type that may write \
             (tc, xdp, lwt_xmit, sk_skb, sk_msg)",
        ));
    }
    if m.starts_with("BPF_LD_[ABS|IND]") || m.starts_with("at the time of BPF_LD_ABS|IND") {
        let hint = if m.contains("not allowed for this program type") {
            "LD_ABS/LD_IND exist only for socket filters and tc programs: read the packet \
             through data/data_end (with a bounds check) or bpf_skb_load_bytes instead"
        } else if m.contains("R6") {
            "LD_ABS/LD_IND read the packet through the context in r6: keep `r6 = r1` (the \
             program's context) unchanged up to the load"
        } else if m.contains("reference leak") {
            "LD_ABS/LD_IND may end the program: release acquired references (ring buffer \
             reservations, sockets) before it"
        } else {
            "LD_ABS/LD_IND take r0 as destination, no offset field and at most 4 bytes"
        };
        return Some(Diagnosis::new(Code::LdAbs, hint));
    }
    if m.ends_with("is not allowed in subprogs without BTF") {
        return Some(Diagnosis::new(
            Code::MissingFuncInfo,
            "without BTF function records only the entry function may end the program early \
             (bpf_tail_call, LD_ABS/LD_IND): build with `clang -g` and load the object with \
             its .BTF and .BTF.ext, or move the call into the entry function",
        ));
    }
    if m == "missing btf func_info" {
        return Some(Diagnosis::new(
            Code::MissingFuncInfo,
            "a function's address (a callback for bpf_loop and the like) needs the program's \
             BTF function records: build with `clang -g` and load the object with its .BTF and \
             .BTF.ext; hand-written programs cannot pass callbacks",
        ));
    }
    if let Some(now) = between(
        m,
        "At callback return the register R0 has ",
        " should have been",
    ) {
        return Some(Diagnosis::new(
            Code::ReturnRange,
            format!(
                "a callback must return 0 or 1 (for bpf_loop, 1 ends the loop), and R0 here \
                 has {now}: `return 0;` to go on, `return 1;` to stop"
            ),
        ));
    }
    let at_exit = m.starts_with("At program exit the register R0")
        || m.starts_with("At subprogram exit the register R0")
        || m.contains(" the register R0 ");
    if at_exit {
        if let Some(range) = between(m, "should have been in [", "]") {
            let now = between(m, "R0 has ", " should have been").unwrap_or("another value");
            let lo = range.split_once(", ").map_or(range, |(lo, _)| lo);
            return Some(Diagnosis::new(
                Code::ReturnRange,
                format!(
                    "this program type must return a value in [{range}], and R0 here has \
                     {now}: return one of those on every path (e.g. `return {lo};`)"
                ),
            ));
        }
        if let Some(ty) = between(m, "is not a known value (", ")")
            .or_else(|| between(m, "is not a scalar value (", ")"))
        {
            return Some(Diagnosis::new(
                Code::ReturnNotScalar,
                format!("R0 holds a {ty} at exit: return a number, not a pointer"),
            ));
        }
    }
    if m.ends_with("would lead to reference leak") {
        return Some(Diagnosis::new(
            Code::ReferenceLeak,
            "a reference acquired on this path is still held here: release it on every path \
             (bpf_ringbuf_submit or bpf_ringbuf_discard a reservation, bpf_sk_release a \
             socket), including early returns",
        ));
    }
    if let Some(rest) = m.strip_prefix("Unreleased reference ") {
        let hint = match (field(rest, "id="), field(rest, "alloc_insn=")) {
            (Some(id), Some(at)) => format!(
                "the reference acquired at insn {at} (id={id}) is still held at exit: release \
                 it on every path (bpf_ringbuf_submit or bpf_ringbuf_discard a reservation, \
                 bpf_sk_release a socket), including early returns"
            ),
            _ => "a reference is still held at exit: release it on every path".to_owned(),
        };
        return Some(Diagnosis::new(Code::ReferenceLeak, hint));
    }
    if m.contains("reference has not been acquired before")
        || m.contains("must be referenced when passed to release function")
    {
        return Some(Diagnosis::new(
            Code::ReleaseUnacquired,
            "only release what was acquired, exactly once: pass the unmodified pointer that \
             bpf_ringbuf_reserve (or bpf_sk_lookup_*) returned, and not after it was released",
        ));
    }
    None
}

fn limits(m: &str) -> Option<Diagnosis> {
    if let Some(rest) = m.strip_prefix("BPF program is too large. Processed ") {
        let n = leading_int(rest).map_or_else(String::new, |(v, _)| format!(" {v}"));
        return Some(Diagnosis::new(
            Code::TooComplex,
            format!(
                "the verifier walked{n} instructions (limit 1000000) without finishing: bound \
                 loops with a small constant trip count, replace long loops with bpf_loop(), and \
                 reduce branches whose outcomes multiply the paths"
            ),
        ));
    }
    if m.starts_with("The sequence of ") && m.contains("jumps is too complex") {
        return Some(Diagnosis::new(
            Code::TooComplex,
            "too many undecided branches are pending at once: split the code into functions, \
             or reduce the number of conditions in a row",
        ));
    }
    if let Some(rest) = m.strip_prefix("infinite loop detected at insn ") {
        let hint = match leading_int(rest) {
            Some((n, _)) => format!(
                "the verifier came back to insn {n} in exactly the same state, so this loop \
                 never ends: make the loop variable change on every iteration and the exit \
                 condition depend on it"
            ),
            None => "a loop never ends: make the exit condition depend on a variable the loop \
                     changes"
                .to_owned(),
        };
        return Some(Diagnosis::new(Code::InfiniteLoop, hint));
    }
    if m.ends_with("but its prototype is not modeled")
        || m.ends_with("argument or return types not modelled yet")
        || m.ends_with("is not covered by the platform")
    {
        return Some(Diagnosis::new(
            Code::NotModeled,
            "this verifier does not model this yet (a limit of ebpf-verifier, not a kernel \
             verdict): the kernel may well accept the program; check it with the kernel",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// One real message per code: the text of the verifier's, the
    /// platform's and the CFG's formats, or a kernel line from the corpus.
    const EXAMPLES: &[(&str, Code)] = &[
        ("program has no instructions", Code::EmptyProgram),
        (
            "program of 5000 insns is larger than the limit of 4096 insns",
            Code::ProgramTooLong,
        ),
        (
            "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN",
            Code::CallsNeedCapBpf,
        ),
        ("call to invalid destination", Code::InvalidCallTarget),
        ("too many subprograms", Code::TooManySubprograms),
        ("jump out of range from insn 0 to 6", Code::JumpOutOfRange),
        ("last insn is not an exit or jmp", Code::FallsOffEnd),
        ("invalid insn idx 7", Code::FallsOffEnd),
        (
            "no jump tables found for subprog starting at 4",
            Code::JumpTable,
        ),
        (
            "jump table for insn 3 points outside of the subprog [0,9]",
            Code::JumpTable,
        ),
        ("back-edge from insn 2 to 1", Code::BackEdge),
        ("unreachable insn 1", Code::UnreachableInsn),
        (
            "jump into the middle of ldimm64 insn 3",
            Code::JumpIntoLdImm64,
        ),
        (
            "unsupported instruction (d4) r0 = le16 r0",
            Code::BadInstruction,
        ),
        ("unsupported ld_imm64 source", Code::BadInstruction),
        ("fd_idx 3 is out of bounds", Code::BadMapReference),
        (
            "invalid access to map value pointer, value_size=16 off=20",
            Code::DirectValueAccess,
        ),
        (
            "no direct value access support for this map type",
            Code::DirectValueAccess,
        ),
        (
            "BPF_ATOMIC loads from R1 ctx is not allowed",
            Code::AtomicStore,
        ),
        ("R1 !read_ok", Code::UninitRegister),
        ("R0 !read_ok", Code::UninitRegister),
        ("frame pointer is read only", Code::FramePointerReadOnly),
        ("div by zero", Code::DivByZero),
        ("invalid shift 64", Code::InvalidShift),
        (
            "R1 pointer arithmetic with *= operator prohibited",
            Code::PtrArithOperator,
        ),
        (
            "R1 bitwise operator &= on pointer prohibited",
            Code::PtrArithOperator,
        ),
        (
            "R1 32-bit pointer arithmetic prohibited",
            Code::PtrArithOperator,
        ),
        ("R2 sign-extension part of pointer", Code::PtrArithOperator),
        ("R3 pointer arithmetic prohibited", Code::PtrArithOperator),
        ("R1 pointer += pointer prohibited", Code::PtrWithPtr),
        ("R1 tried to subtract pointer from scalar", Code::PtrWithPtr),
        (
            "R1 pointer arithmetic on map_ptr prohibited",
            Code::PtrArithOnType,
        ),
        (
            "R3 pointer arithmetic on pkt_end prohibited",
            Code::PtrArithOnType,
        ),
        (
            "math between map_value pointer and register with unbounded min value is not allowed",
            Code::UnboundedPtrMath,
        ),
        (
            "value -2147483648 makes pkt pointer be out of bounds",
            Code::PtrOffsetTooLarge,
        ),
        (
            "R2 min value is negative, either use unsigned index or do a if (index >=0) check.",
            Code::NegativeIndex,
        ),
        ("R0 invalid mem access 'scalar'", Code::DerefScalar),
        ("R0 invalid mem access 'map_value_or_null'", Code::MaybeNull),
        (
            "R0 pointer arithmetic on map_value_or_null prohibited, null-check it first",
            Code::MaybeNull,
        ),
        ("R3 invalid mem access 'pkt_end'", Code::BadDerefType),
        ("R2 offset is outside of the packet", Code::PktOutOfRange),
        (
            "invalid access to packet, off=14 size=1, R2(id=0,off=14,r=0)",
            Code::PktOutOfRange,
        ),
        ("invalid bpf_context access off=76 size=4", Code::CtxAccess),
        (
            "dereference of modified ctx ptr R1 off=8 disallowed",
            Code::CtxModified,
        ),
        (
            "variable ctx access var_off=(0x0; 0x4) disallowed",
            Code::CtxModified,
        ),
        (
            "BPF_ATOMIC stores into R1 ctx is not allowed",
            Code::AtomicStore,
        ),
        (
            "invalid access to map value, value_size=8 off=8 size=8",
            Code::MapValueRange,
        ),
        (
            "invalid access to memory, mem_size=8 off=8 size=8",
            Code::MemRange,
        ),
        (
            "R0 min value is outside of the allowed memory range",
            Code::RegionRange,
        ),
        (
            "R0 max value is outside of the allowed memory range",
            Code::RegionRange,
        ),
        (
            "invalid write to stack R10 off=-520 size=8",
            Code::StackOutOfBounds,
        ),
        (
            "invalid read from stack R10 off=0 size=8",
            Code::StackOutOfBounds,
        ),
        ("invalid stack off=-520 size=8", Code::StackOutOfBounds),
        (
            "misaligned stack access off 0+0+-12 size 8",
            Code::Misaligned,
        ),
        (
            "invalid variable-offset stack access R2 var_off=(0xfffffffffffffff0; 0x8)",
            Code::StackVariableOffset,
        ),
        ("invalid read from stack off -8+0 size 8", Code::StackUninit),
        (
            "invalid indirect read from stack R2 off -8+0 size 8",
            Code::StackUninit,
        ),
        ("invalid size of register spill", Code::SpillSize),
        ("invalid size of register fill", Code::SpillSize),
        (
            "stack pointer into a returned frame",
            Code::StackOfReturnedFrame,
        ),
        ("invalid func unknown#9999", Code::UnknownHelper),
        (
            "program of this type cannot use helper bpf_redirect#23",
            Code::HelperUnavailable,
        ),
        ("unknown func bpf_xxx#123", Code::HelperUnavailable),
        (
            "cannot call GPL-restricted function from non-GPL compatible program",
            Code::GplOnly,
        ),
        (
            "helper call is not allowed in probe",
            Code::HelperNotAllowed,
        ),
        (
            "helper call might sleep in a non-sleepable prog",
            Code::HelperMightSleep,
        ),
        ("R1 type=scalar expected=map_ptr", Code::HelperArgType),
        ("R3 is not a known constant'", Code::HelperArgConst),
        (
            "R2 invalid zero-sized read: u64=[0,0]",
            Code::HelperZeroSize,
        ),
        (
            "R2 unbounded memory access, use 'var &= const' or 'if (var < const)'",
            Code::HelperSizeUnbounded,
        ),
        (
            "cannot pass map_type 1 into func bpf_ringbuf_output#130",
            Code::HelperMapType,
        ),
        ("the call stack of 9 frames is too deep", Code::CallTooDeep),
        ("missing btf func_info", Code::MissingFuncInfo),
        ("cannot write into packet", Code::PacketReadOnly),
        ("R0 invalid sock access off=50 size=2", Code::SockAccess),
        (
            "R1 invalid sock_common access off=8 size=4",
            Code::SockAccess,
        ),
        ("R0 invalid tcp_sock access off=0 size=2", Code::SockAccess),
        ("R0 cannot write into sock", Code::SockAccess),
        (
            "function calls are not allowed while holding a lock",
            Code::SpinLock,
        ),
        (
            "write into map forbidden, value_size=8 off=0 size=8",
            Code::MapAccessType,
        ),
        (
            "at the time of BPF_LD_ABS|IND R6 != pointer to skb",
            Code::LdAbs,
        ),
        (
            "BPF_LD_[ABS|IND] instructions not allowed for this program type",
            Code::LdAbs,
        ),
        (
            "At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]",
            Code::ReturnRange,
        ),
        (
            "combined stack size of 2 calls is 608. Too large",
            Code::StackTooLarge,
        ),
        (
            "At program exit the register R0 has smin=5 smax=5 should have been in [0, 1]",
            Code::ReturnRange,
        ),
        (
            "At program exit the register R0 has unknown scalar value should have been in [0, 1]",
            Code::ReturnRange,
        ),
        (
            "At program exit the register R0 is not a known value (map_value)",
            Code::ReturnNotScalar,
        ),
        (
            "BPF_EXIT instruction in main prog would lead to reference leak",
            Code::ReferenceLeak,
        ),
        (
            "Unreleased reference id=2 alloc_insn=4",
            Code::ReferenceLeak,
        ),
        (
            "R1 must be referenced when passed to release function",
            Code::ReleaseUnacquired,
        ),
        (
            "BPF program is too large. Processed 1000001 insn",
            Code::TooComplex,
        ),
        (
            "The sequence of 8193 jumps is too complex.",
            Code::TooComplex,
        ),
        ("infinite loop detected at insn 5", Code::InfiniteLoop),
        (
            "bpf_sk_lookup_tcp#84: argument or return types not modelled yet",
            Code::NotModeled,
        ),
        (
            "helper bpf_foo#200 is available to Xdp but its prototype is not modeled",
            Code::NotModeled,
        ),
        ("something entirely new", Code::Other),
    ];

    #[test]
    fn examples_map_to_their_codes() {
        for (msg, code) in EXAMPLES {
            let d = diagnose(msg);
            assert_eq!(d.code, *code, "{msg:?} -> {:?}: {}", d.code, d.hint);
            assert!(!d.hint.is_empty(), "{msg:?}");
        }
    }

    #[test]
    fn every_code_has_an_example() {
        let covered: HashSet<Code> = EXAMPLES.iter().map(|(_, c)| *c).collect();
        for c in Code::ALL {
            assert!(covered.contains(c), "no example for {c:?}");
        }
        assert!(Code::ALL.len() >= 30);
    }

    #[test]
    fn code_texts_and_titles_are_unique_and_well_formed() {
        let mut texts = HashSet::new();
        let mut titles = HashSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(texts.insert(s), "duplicate code text {s}");
            assert!(titles.insert(c.title()), "duplicate title {}", c.title());
            let digits = s.strip_prefix("EBPF-V").expect("EBPF-V prefix");
            assert_eq!(digits.len(), 3, "{s}");
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{s}");
            assert_eq!(Code::from_code_str(s), Some(*c));
            assert_eq!(c.to_string(), s);
        }
        // `ALL` is in numeric order and holds each variant once.
        let mut sorted: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        sorted.sort_unstable();
        let in_order: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(sorted, in_order);
        assert_eq!(Code::from_code_str("ebpf-v304"), Some(Code::PktOutOfRange));
        assert_eq!(Code::from_code_str("EBPF-V000"), None);
    }

    #[test]
    fn published_codes_keep_their_text() {
        // A change here breaks users' scripts: codes never change meaning.
        assert_eq!(Code::EmptyProgram.as_str(), "EBPF-V001");
        assert_eq!(Code::UninitRegister.as_str(), "EBPF-V101");
        assert_eq!(Code::PtrArithOperator.as_str(), "EBPF-V201");
        assert_eq!(Code::PktOutOfRange.as_str(), "EBPF-V304");
        assert_eq!(Code::UnknownHelper.as_str(), "EBPF-V401");
        assert_eq!(Code::ReturnRange.as_str(), "EBPF-V501");
        assert_eq!(Code::TooComplex.as_str(), "EBPF-V601");
        assert_eq!(Code::Other.as_str(), "EBPF-V999");
    }

    fn hint(msg: &str) -> String {
        diagnose(msg).hint
    }

    #[test]
    fn hints_use_the_numbers() {
        let h = hint("invalid access to packet, off=14 size=1, R2(id=0,off=14,r=0)");
        assert!(h.contains("`if (data + 15 > data_end) return ...;`"), "{h}");
        assert!(h.contains("prove 0 bytes, this access needs 15"), "{h}");
        let h = hint("invalid access to packet, off=14 size=2, R2(id=3,off=14,r=14)");
        assert!(h.contains("ptr + 16 > data_end"), "{h}");
        assert!(h.contains("id=3"), "{h}");
        let h = hint("invalid access to packet, off=-2 size=2, R2(id=0,off=-2,r=0)");
        assert!(h.contains("2 bytes before"), "{h}");

        let h = hint("R5 !read_ok");
        assert!(
            h.starts_with("R5 is read before anything was written to it"),
            "{h}"
        );
        assert!(h.contains("r1-r5 are clobbered"), "{h}");
        assert!(hint("R0 !read_ok").contains("return value"));

        let h = hint("invalid access to map value, value_size=64 off=120 size=8");
        assert!(h.contains("bytes 120..128"), "{h}");
        assert!(h.contains("off+size <= 64"), "{h}");
        assert!(h.contains("if (idx >= 8)"), "{h}");
        let h = hint("invalid access to map value, value_size=8 off=-4 size=4");
        assert!(h.contains("4 bytes before"), "{h}");
        let h = hint("invalid access to memory, mem_size=8 off=8 size=8");
        assert!(h.contains("off+size <= 8"), "{h}");
        assert!(h.contains("bpf_ringbuf_reserve"), "{h}");

        let h = hint("invalid write to stack R10 off=-520 size=8");
        assert!(h.contains("512 bytes"), "{h}");
        assert!(h.contains("r10-520..r10-512"), "{h}");
        assert!(h.contains("per-CPU array"), "{h}");
        let h = hint("invalid write to stack R10 off=0 size=8");
        assert!(h.contains("r10+0..r10+8"), "{h}");
        assert!(h.contains("negative"), "{h}");

        let h = hint("misaligned stack access off 0+0+-12 size 8");
        assert!(h.contains("r10-12"), "{h}");
        assert!(h.contains("r10-16 or r10-8"), "{h}");
        let h = hint("misaligned packet access off 2+0+12+0 size 4");
        assert!(h.contains("offset 14"), "{h}");

        let h = hint("invalid indirect read from stack R2 off -8+0 size 8");
        assert!(h.contains("8 bytes at r10-8"), "{h}");
        assert!(h.contains("memset"), "{h}");

        let h = hint("combined stack size of 2 calls is 608. Too large");
        assert!(h.contains("608 bytes"), "{h}");
        assert!(h.contains("96 over the limit of 512"), "{h}");
        let h = hint("the call stack of 9 frames is too deep");
        assert!(
            h.contains("9 nested calls") && h.contains("8 frames"),
            "{h}"
        );

        let h =
            hint("At program exit the register R0 has smin=5 smax=5 should have been in [0, 1]");
        assert!(h.contains("[0, 1]") && h.contains("smin=5 smax=5"), "{h}");
        assert!(h.contains("return 0;"), "{h}");

        let h = hint("Unreleased reference id=2 alloc_insn=7");
        assert!(h.contains("insn 7") && h.contains("id=2"), "{h}");
        assert!(h.contains("bpf_ringbuf_discard"), "{h}");

        assert!(hint("infinite loop detected at insn 5").contains("insn 5"));
        assert!(hint("BPF program is too large. Processed 1000001 insn").contains("bpf_loop"));
        assert!(hint("BPF program is too large. Processed 1000001 insn").contains("1000001"));
        assert!(
            hint("cannot call GPL-restricted function from non-GPL compatible program")
                .contains("\"GPL\"")
        );
        assert!(hint("R0 invalid mem access 'map_value_or_null'").contains("NULL"));
        assert!(hint("R0 invalid mem access 'map_value_or_null'").contains("bpf_map_lookup_elem"));
        assert!(hint("R0 invalid mem access 'scalar'").contains("number, not a pointer"));
        assert!(hint("invalid shift 32").contains("0..31"));
        assert!(hint("invalid shift 64").contains("0..63"));
        assert!(hint("jump out of range from insn 0 to 6").contains("insn 0 targets insn 6"));
        assert!(hint("jump out of range from insn 0 to 6").contains("next instruction, insn 1"));
        assert!(hint("back-edge from insn 2 to 1").contains("insn 2 jumps back to insn 1"));
        assert!(hint("unreachable insn 3").contains("insn 3"));
        assert!(hint("jump into the middle of ldimm64 insn 3").contains("insn 5"));
        assert!(hint("dereference of modified ctx ptr R1 off=8 disallowed").contains("(r1 + 8)"));
        assert!(hint("invalid bpf_context access off=76 size=4").contains("4 bytes at offset 76"));
        assert!(hint("R2 invalid zero-sized read: u64=[0,0]").contains("[0,0]"));
        assert!(
            hint("program of this type cannot use helper bpf_redirect#23")
                .contains("bpf_redirect#23 is not available")
        );
        assert!(
            hint("program of 5000 insns is larger than the limit of 4096 insns")
                .contains("5000 instructions and the limit is 4096")
        );
        assert!(hint("R1 type=scalar expected=map_ptr").contains("&my_map"));
        assert!(
            hint("R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem")
                .contains("r2 = r10")
        );
    }

    #[test]
    fn parsing_is_robust() {
        assert_eq!(leading_int("-12+3"), Some((-12, "+3")));
        assert_eq!(leading_int("x"), None);
        assert_eq!(leading_int("-"), None);
        assert_eq!(leading_int("-9223372036854775808"), Some((i64::MIN, "")));
        assert_eq!(leading_int("9223372036854775808"), None);
        assert_eq!(field("a off=7 size=2", "size="), Some(2));
        // Truncated or odd numbers still classify, with a generic hint.
        assert_eq!(
            diagnose("invalid access to packet, off=x").code,
            Code::PktOutOfRange
        );
        assert_eq!(
            diagnose("misaligned stack access off (0x0; 0x4)+0+-8 size 8").code,
            Code::Misaligned
        );
        assert_eq!(
            diagnose("invalid access to map value, value_size=9223372036854775807 off=9223372036854775807 size=8").code,
            Code::MapValueRange
        );
        assert_eq!(diagnose("  R1 !read_ok\n").code, Code::UninitRegister);
        assert_eq!(diagnose("").code, Code::Other);
    }

    #[test]
    fn the_log_refines_the_error_line() {
        let log = "6: (71) r0 = *(u8 *)(r2 +14)\n\
                   invalid access to packet, off=14 size=1, R2(id=0,off=14,r=14)\n\
                   R2 offset is outside of the packet\n\
                   processed 7 insns (limit 1000000)\n";
        let d = diagnose_with_log("R2 offset is outside of the packet", log);
        assert_eq!(d.code, Code::PktOutOfRange);
        assert!(d.hint.contains("data + 15 > data_end"), "{}", d.hint);
        assert!(d.hint.contains("prove 14 bytes"), "{}", d.hint);

        let log = "7: (79) r0 = *(u64 *)(r0 +8)\n\
                   invalid access to map value, value_size=8 off=8 size=8\n\
                   R0 min value is outside of the allowed memory range\n";
        let d = diagnose_with_log("R0 min value is outside of the allowed memory range", log);
        assert_eq!(d.code, Code::MapValueRange);
        assert!(d.hint.contains("off+size <= 8"), "{}", d.hint);

        let log = "11: (79) r0 = *(u64 *)(r0 +0)\n\
                   invalid access to map value, value_size=64 off=120 size=8\n\
                   R0 max value is outside of the allowed memory range\n";
        let d = diagnose_with_log("R0 max value is outside of the allowed memory range", log);
        assert_eq!(d.code, Code::MapValueRange);
        assert!(d.hint.contains("tighten the bound"), "{}", d.hint);

        let log = "6: (95) exit\nUnreleased reference id=2 alloc_insn=4\n\
                   BPF_EXIT instruction in main prog would lead to reference leak\n";
        let d = diagnose_with_log(
            "BPF_EXIT instruction in main prog would lead to reference leak",
            log,
        );
        assert_eq!(d.code, Code::ReferenceLeak);
        assert!(d.hint.contains("insn 4"), "{}", d.hint);

        let d = diagnose_with_log(
            "R0 !read_ok",
            "0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\n",
        );
        assert!(
            d.hint.contains("reaches `exit` without setting it"),
            "{}",
            d.hint
        );

        // Unrelated detail lines and absent messages change nothing.
        let log = "1: (bf) r0 = r1\nR1 !read_ok\n";
        assert_eq!(
            diagnose_with_log("R1 !read_ok", log),
            diagnose("R1 !read_ok")
        );
        let m = "R0 min value is outside of the allowed memory range";
        assert_eq!(diagnose_with_log(m, "0: (95) exit\n"), diagnose(m));
        assert_eq!(
            diagnose_with_log(m, &format!("0: (95) exit\n{m}\n")),
            diagnose(m)
        );
        assert_eq!(diagnose_with_log(m, m), diagnose(m));
    }

    /// Every error line the kernel gave on the corpus has a code, and with
    /// the kernel's log, so does its detail line.
    #[test]
    fn corpus_errors_are_all_classified() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
        let mut seen = 0usize;
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .expect("tests/corpus")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "kernel"))
            .collect();
        entries.sort();
        for path in entries {
            let text = std::fs::read_to_string(&path).expect("read .kernel");
            let error = text
                .lines()
                .find_map(|l| l.strip_prefix("error:"))
                .expect("an `error:` line")
                .trim();
            if error.is_empty() {
                continue;
            }
            seen = seen.checked_add(1).expect("count");
            let d = diagnose(error);
            assert_ne!(d.code, Code::Other, "{}: {error:?}", path.display());
            let log = text
                .split_once("--- log level 2 ---")
                .map_or("", |(_, l)| l);
            let d2 = diagnose_with_log(error, log);
            assert_ne!(d2.code, Code::Other, "{}: {error:?}", path.display());
            assert!(!d2.hint.is_empty());
        }
        assert!(seen >= 30, "only {seen} refusals in the corpus");
    }
}
