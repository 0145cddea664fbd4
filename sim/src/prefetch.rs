//! Software prefetching: a hint to the processor, no effect on any result.

/// Asks the processor to bring element `i` of `v` (its first cache line, or every line
/// it spans when `whole`) towards the first-level cache. The data of the next events is
/// known before their turn (the buffered arrivals, the heap's sorted current slot), and
/// fetching it while this event runs hides the misses of runs whose instances and
/// per-function figures outgrow the caches. A hint: no effect on any result, nothing on
/// other architectures, and no bounds check (a prefetch past the end reads nothing).
#[inline(always)]
pub(crate) fn prefetch<T>(v: &[T], i: usize, whole: bool) {
    let at: *const u8 = v.as_ptr().wrapping_add(i).cast();
    prefetch_line(at);
    if whole {
        let size = std::mem::size_of::<T>();
        let mut offset = 64;
        while offset < size {
            prefetch_line(at.wrapping_add(offset));
            offset += 64;
        }
        prefetch_line(at.wrapping_add(size - 1));
    }
}

#[inline(always)]
pub(crate) fn prefetch_line(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally and cannot fault, whatever the
    // address (the callers' are computed with `wrapping_add`, never dereferenced).
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(at.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}
