//! A kernel-style eBPF verifier (work in progress): the scalar domain
//! (tnums and bounds) comes first.
#![forbid(unsafe_code)]
