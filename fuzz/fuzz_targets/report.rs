//! Fuzz target `report`: see `tests/fuzz_targets/mod.rs` for what it checks.
#![no_main]

// Each target calls one of the shared bodies; the others are unused here.
#[allow(dead_code)]
#[path = "../../tests/fuzz_targets/mod.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::report(data));
