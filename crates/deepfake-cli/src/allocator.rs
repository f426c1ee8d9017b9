//! The C allocator's settings for our commands (glibc on Linux; elsewhere nothing changes).
//!
//! Burn's CPU backend allocates a fresh buffer for the output of every operation, and a
//! training step of the seed detector frees and allocates hundreds of megabytes. glibc
//! serves every allocation above its mmap threshold (128 KiB, raised up to 32 MiB as large
//! blocks are freed) with a fresh mapping and unmaps it when freed, so those buffers come back
//! as new pages each time, which the kernel faults in and clears: 15-20% of a seed training
//! step's samples were the kernel clearing pages (perf, AMD EPYC, 2 threads). With mappings
//! off and the heap never trimmed, freed buffers are reused. Measured on the seed training
//! step (batch, images/s before -> after, runs interleaved): batch 32, four rounds,
//! 2.59-2.93 -> 3.37-3.80 images/s, system time 12-18 -> 8-9 s per run, peak RSS 4,719 ->
//! 4,923 MB; batch 8 (activations under glibc's largest threshold, so fewer fresh mappings to
//! begin with), two sets of four rounds: +9% in one (2.91-3.27 -> 3.30-3.65, the settings
//! given as `GLIBC_TUNABLES`), within the noise in the other (3.12-3.65 -> 3.20-3.89, these
//! binaries), system time 2.0-5.1 -> 1.5-3.1 s, peak RSS unchanged (1,890 MB). (A 32 MiB
//! threshold alone did nothing at batch 32; mimalloc and jemalloc as Rust's allocator measured
//! no faster and much slower.) The price: a process keeps its peak heap until it exits.

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
