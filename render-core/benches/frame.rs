//! Criterion benchmarks of render-core (filled in below).
fn main() {}
