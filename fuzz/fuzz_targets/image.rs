//! Fuzz target `image`: see `tests/fuzz_targets/mod.rs` for what it checks.
#![no_main]

#[path = "../../tests/fuzz_targets/mod.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::image(data));
