//! The allocation cap of the fuzz builds: no single allocation over [`MAX_ALLOCATION_BYTES`].
//!
//! libFuzzer's `-malloc_limit_mb` is enforced through the sanitizer's allocator hooks, so a
//! build without a sanitizer (`cargo xtask fuzz --sanitizer none`) would let a parser that
//! trusts a length field ask for 100 GB unnoticed. This global allocator (installed only in
//! `cargo fuzz` builds, `cfg(fuzzing)`; its unit tests run in `cargo test`) refuses such a
//! request: it names the size on stderr and aborts, which libFuzzer reports as a crash and
//! saves the input as an artifact.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;

/// The largest allocation a target may make, bytes (2 GiB, libFuzzer's `-malloc_limit_mb=2048`
/// that `cargo xtask fuzz` passes).
pub const MAX_ALLOCATION_BYTES: usize = 2048 << 20;

/// The system allocator with the cap.
pub struct LimitedAllocator;

/// Aborts the process, naming `size`, when it is over [`MAX_ALLOCATION_BYTES`].
fn check(size: usize) {
    if is_over_limit(size) {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(b"==deepfake-fuzz== out-of-memory: an allocation of ");
        write_decimal(&mut stderr, size);
        let _ = stderr.write_all(b" bytes, over the limit of ");
        write_decimal(&mut stderr, MAX_ALLOCATION_BYTES);
        let _ = stderr.write_all(b" bytes\n");
        std::process::abort();
    }
}

/// Whether an allocation of `size` bytes is refused.
fn is_over_limit(size: usize) -> bool {
    size > MAX_ALLOCATION_BYTES
}

/// Writes `value` in decimal without formatting machinery (which could allocate).
fn write_decimal(out: &mut impl Write, value: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let _ = out.write_all(&digits[at..]);
}

// SAFETY: every call is passed on unchanged to `System`, which upholds `GlobalAlloc`'s contract;
// `check` only reads the size and may abort the process.
unsafe impl GlobalAlloc for LimitedAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: the caller's `layout` contract is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        // SAFETY: the caller's `ptr`, `layout` and `new_size` contract is `System.realloc`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` through this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_2_gib_inclusive() {
        assert!(!is_over_limit(0));
        assert!(!is_over_limit(MAX_ALLOCATION_BYTES));
        assert!(is_over_limit(MAX_ALLOCATION_BYTES + 1));
        assert!(is_over_limit(usize::MAX));
        assert_eq!(MAX_ALLOCATION_BYTES, 2_147_483_648);
    }

    #[test]
    fn sizes_are_written_in_decimal() {
        for value in [0, 7, 10, 320_000, 2_147_483_649, usize::MAX] {
            let mut out = Vec::new();
            write_decimal(&mut out, value);
            assert_eq!(String::from_utf8(out).unwrap(), value.to_string());
        }
    }

    #[test]
    fn allocations_under_the_limit_pass_through() {
        let layout = Layout::from_size_align(4096, 64).unwrap();
        // SAFETY: `layout` has a non-zero size; every pointer is checked for null, used within
        // its size and freed once with the layout it was allocated with.
        unsafe {
            let zeroed = LimitedAllocator.alloc_zeroed(layout);
            assert!(!zeroed.is_null());
            assert!(
                std::slice::from_raw_parts(zeroed, 4096)
                    .iter()
                    .all(|&b| b == 0)
            );
            zeroed.write_bytes(0xAB, 4096);
            let grown = LimitedAllocator.realloc(zeroed, layout, 8192);
            assert!(!grown.is_null());
            assert!(
                std::slice::from_raw_parts(grown, 4096)
                    .iter()
                    .all(|&b| b == 0xAB)
            );
            LimitedAllocator.dealloc(grown, Layout::from_size_align(8192, 64).unwrap());
        }
    }
}
