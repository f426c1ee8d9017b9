//! The C allocator's settings for our commands (glibc on Linux; elsewhere nothing changes).
//!
//! Burn's CPU backend allocates a fresh buffer for the output of every operation, and a
//! training step of the seed detector frees and allocates hundreds of megabytes. glibc
//! serves every allocation above its mmap threshold (128 KiB, raised up to 32 MiB as large
//! blocks are freed) with a fresh mapping and unmaps it when freed, so those buffers come back
//! as new pages each time, which the kernel faults in and clears: 15-20% of a seed training
//! step's samples were the kernel clearing pages (perf, AMD EPYC, 2 threads). With mappings
//! off and the heap never trimmed, freed buffers are reused. Measured on the seed training
//! step, default against these settings (`GLIBC_TUNABLES` with the same values), interleaved:
//! batch 8, four rounds, 2.91-3.27 -> 3.30-3.65 images/s, system time 2.9-5.1 -> 2.1-3.1 s per
//! run, peak RSS unchanged (1,890 MB); batch 32, two rounds, 2.78-2.93 -> 3.37-3.50 images/s,
//! peak RSS 4,719 -> 4,922 MB. (A 32 MiB threshold alone helped batch 8 as much, not batch
//! 32, whose activations are larger; mimalloc and jemalloc as Rust's allocator measured no
//! faster and much slower.) The price: a process keeps its peak heap until it exits.

/// Sets glibc's allocator to serve large blocks from the heap (no per-block mappings) and
/// never return freed heap to the system, for the rest of the process. Call once, first
/// thing in `main`.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes allocator parameters; it is called before any thread of
    // ours starts, and glibc takes its own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
    }
}
