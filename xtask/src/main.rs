//! Project automation (placeholder replaced by the xtask helper).
fn main() {}
