//! Per-thread work buffers of the image passes (resize, blur), kept between images of
//! ordinary size so that each image does not allocate (and page-fault) them anew.

/// Work buffers larger than this are freed after use rather than kept for the next image:
/// a data set's images (256x256 RGB: 196 KB) reuse theirs, a 50-megapixel photo does not
/// leave 150 MB per buffer behind in every thread that saw it.
pub const KEEP_BYTES: usize = 8 << 20;

/// Frees `buffer` when it holds more than [`KEEP_BYTES`].
pub fn trim(buffer: &mut Vec<u8>) {
    if buffer.capacity() > KEEP_BYTES {
        *buffer = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_buffers_are_kept_and_large_ones_freed() {
        let mut small = vec![0u8; 1 << 20];
        trim(&mut small);
        assert_eq!(small.len(), 1 << 20);
        let mut limit = vec![0u8; KEEP_BYTES];
        trim(&mut limit);
        assert_eq!(
            limit.len(),
            KEEP_BYTES,
            "a buffer of exactly the limit is kept"
        );
        let mut large = vec![0u8; KEEP_BYTES + 1];
        trim(&mut large);
        assert_eq!(large.capacity(), 0);
    }
}
