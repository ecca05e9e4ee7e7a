//! Giving back the stack pages a waiting coroutine does not use.
//!
//! A coroutine stack has at least two resident pages: the top one, holding the coroutine's frames, and the bottom
//! one, where generator (may's coroutine crate) writes a sentinel when it maps the stack and reads it back when the
//! coroutine is dropped, to detect an overflow. For a green thread that waits for long (an idle connection, a
//! sleeper, an idle runner) that bottom page is half of its memory. So before a long wait, a coroutine started by the
//! host releases the pages of its stack below its current frames (`MADV_DONTNEED`: they read as zeros and become
//! resident again only if used), and writes the sentinel back when it finishes. It does so before its first long
//! wait, and again before a later one if a second has passed since: pages a deep call used in between go back too,
//! without a syscall per wait for a coroutine that waits often.
//!
//! may does not publish a coroutine's stack bounds, so they are derived: the top is the page boundary just above the
//! coroutine's first frame (or the one after it), and the usable size is the size the coroutine was spawned with
//! (may's configured stack size unless the spawner chose one), in whole pages. A candidate bottom is accepted only if the word below it cannot be read
//! (generator's guard page) and its first words hold one repeated non-zero value (the sentinel). The probes use
//! `process_vm_readv` on this process, which reports unreadable memory as an error instead of faulting. Anything
//! unexpected leaves the stack as it is.

use std::cell::Cell;
use std::ffi::c_void;
use std::io::IoSliceMut;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use nix::errno::Errno;
use nix::sys::mman::{madvise, MmapAdvise};
use nix::sys::uio::{process_vm_readv, RemoteIoVec};
use nix::unistd::Pid;

use crate::timer::coarse_now_ms;

/// How many words at the bottom of a stack hold generator's sentinel (generator 0.8 writes 8).
const SENTINEL_WORDS: usize = 8;

/// Stack kept below the frame that releases pages. Memory below the stack pointer holds nothing live, except the
/// frames of the `madvise` call itself while it runs (nix's wrapper and libc's system call stub: tens of bytes):
/// this margin is what keeps them, so it must not shrink towards 0. It is well under a page so that a coroutine
/// waiting in shallow frames (an idle switch's reader) keeps only the page those frames are on: a margin of a whole
/// page always kept the page below too, 4 KiB more per idle switch.
const MARGIN: usize = 512;

/// A coroutine releases its pages again only if this long has passed since it last did.
const RELEASE_AGAIN_AFTER_MS: u64 = 1000;

/// Where a coroutine's stack stands.
#[derive(Debug, Clone, Copy)]
enum State {
    /// Not a coroutine the host tracks, or one whose stack could not be located.
    Untracked,
    /// Tracked; `entry` is an address in the coroutine's first frames, near the top of its stack of `bytes`.
    Entered { entry: usize, bytes: usize },
    /// The stack spans `bottom..top`, and its sentinel word is `sentinel`; pages were last released at
    /// `released_ms` (on [`coarse_now_ms`]'s clock).
    Located { bottom: usize, top: usize, sentinel: usize, released_ms: u64 },
}

/// The stack state of one coroutine (kept in its coroutine-local storage).
#[derive(Debug)]
pub struct StackState(Cell<State>);

impl StackState {
    /// A coroutine that is not tracked (yet).
    pub const fn new() -> Self {
        StackState(Cell::new(State::Untracked))
    }

    /// Marks the calling coroutine's stack, `bytes` long, as one this module may trim; called first thing in the
    /// coroutine.
    #[inline(never)]
    pub fn enter(&self, bytes: usize) {
        let marker = 0u8;
        self.0.set(State::Entered { entry: std::hint::black_box(&marker) as *const u8 as usize, bytes });
    }

    /// Releases the pages of the stack below the caller's frames: the first time it is called on a tracked
    /// coroutine, and later calls once a second at most.
    #[inline(never)]
    pub fn release_unused(&self) {
        let marker = 0u8;
        let here = std::hint::black_box(&marker) as *const u8 as usize;
        let now = coarse_now_ms();
        let (bottom, top, sentinel) = match self.0.get() {
            State::Untracked => return,
            State::Entered { entry, bytes } => match locate(entry, bytes) {
                Some(located) => located,
                None => {
                    self.0.set(State::Untracked);
                    return;
                }
            },
            State::Located { released_ms, .. } if now.saturating_sub(released_ms) < RELEASE_AGAIN_AFTER_MS => return,
            State::Located { bottom, top, sentinel, .. } => (bottom, top, sentinel),
        };
        self.0.set(State::Located { bottom, top, sentinel, released_ms: now });
        // The caller must be running on this stack (not, say, on a stack of its own coroutine library).
        if here <= bottom.saturating_add(MARGIN) || here >= top {
            return;
        }
        let end = (here - MARGIN) & !(page_size() - 1);
        let Some(start) = NonNull::new(bottom as *mut c_void).filter(|_| end > bottom) else {
            return;
        };
        // SAFETY: [bottom, end) lies in this coroutine's own stack (located and checked above), wholly below its live
        // frames and the margin that holds the frames of this call.
        if let Err(e) = unsafe { madvise(start, end - bottom, MmapAdvise::MADV_DONTNEED) } {
            disable(&format!("madvise failed: {e}"));
            self.0.set(State::Untracked);
        }
    }

    /// Writes the sentinel back if pages were released; called last thing in the coroutine.
    pub fn restore(&self) {
        let State::Located { bottom, sentinel, .. } = self.0.replace(State::Untracked) else {
            return;
        };
        let words = bottom as *mut usize;
        // SAFETY: `bottom` is the start of this coroutine's stack (checked by `locate`), far below the frames running
        // now; the words are the sentinel, zeros (released, untouched since) or left by a deep call that returned.
        unsafe {
            // Words that are neither zero nor the sentinel mean the stack really was used down to its bottom: leave
            // them, so that generator reports it.
            if (0..SENTINEL_WORDS).all(|i| words.add(i).read_volatile() == 0) {
                for i in 0..SENTINEL_WORDS {
                    words.add(i).write_volatile(sentinel);
                }
            }
        }
    }
}

fn page_size() -> usize {
    static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);
    match PAGE_SIZE.load(Ordering::Relaxed) {
        0 => {
            let size = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
                .ok()
                .flatten()
                .and_then(|size| usize::try_from(size).ok())
                .filter(|size| size.is_power_of_two())
                .unwrap_or(4096);
            PAGE_SIZE.store(size, Ordering::Relaxed);
            size
        }
        size => size,
    }
}

/// Set once probing or releasing failed for a reason other than the memory itself (a seccomp filter refusing
/// `process_vm_readv`, say): stacks are then left alone.
static UNAVAILABLE: AtomicBool = AtomicBool::new(false);

fn disable(why: &str) {
    if !UNAVAILABLE.swap(true, Ordering::Relaxed) {
        log::debug!(target: "tatsu", "coroutine stacks will keep their unused pages: {why}");
    }
}

/// The bounds of the stack of `bytes` whose first frames hold `entry` (bottom, top), and its sentinel word.
fn locate(entry: usize, bytes: usize) -> Option<(usize, usize, usize)> {
    if UNAVAILABLE.load(Ordering::Relaxed) {
        return None;
    }
    let page = page_size();
    let usable = bytes.max(page).checked_next_multiple_of(page)?;
    let first_top = (entry + 1).checked_next_multiple_of(page)?;
    let located = [first_top, first_top + page].into_iter().find_map(|top| {
        let bottom = top.checked_sub(usable)?;
        let mut below = [0usize; 1];
        match read_words(bottom.checked_sub(size_of::<usize>())?, &mut below) {
            Err(Errno::EFAULT) => {} // the guard page, as expected
            Ok(()) => return None,
            Err(e) => {
                disable(&format!("process_vm_readv failed: {e}"));
                return None;
            }
        }
        let mut words = [0usize; SENTINEL_WORDS];
        read_words(bottom, &mut words).ok()?;
        (words[0] != 0 && words.iter().all(|&word| word == words[0])).then_some((bottom, top, words[0]))
    });
    if located.is_none() && !UNAVAILABLE.load(Ordering::Relaxed) {
        static REPORTED: AtomicBool = AtomicBool::new(false);
        if !REPORTED.swap(true, Ordering::Relaxed) {
            log::debug!(
                target: "tatsu",
                "a coroutine's stack was not found from its first frame ({entry:#x}); such stacks keep their pages"
            );
        }
    }
    located
}

/// Reads `out.len()` words at `address` of this process's memory, failing with `EFAULT` where it is not readable.
fn read_words(address: usize, out: &mut [usize]) -> Result<(), Errno> {
    let len = size_of_val(out);
    // SAFETY: a byte view of `out`, which is plain integers.
    let bytes = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<u8>(), len) };
    let read = process_vm_readv(Pid::this(), &mut [IoSliceMut::new(bytes)], &[RemoteIoVec { base: address, len }])?;
    if read == len {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_readable_memory_and_reports_unmapped_memory() {
        let source = [7usize, 8, 9];
        let mut copy = [0usize; 3];
        read_words(source.as_ptr() as usize, &mut copy).expect("own memory is readable");
        assert_eq!(copy, source);
        // Page 0 is never mapped.
        assert_eq!(read_words(64, &mut copy), Err(Errno::EFAULT));
    }

    fn resident(address: usize) -> bool {
        let page = page_size();
        let mut vector = 0u8;
        // SAFETY: asks the kernel about one page-aligned page of a live mapping; writes one byte to `vector`.
        let result = unsafe { libc::mincore((address & !(page - 1)) as *mut c_void, page, &mut vector) };
        assert_eq!(result, 0, "mincore: {}", std::io::Error::last_os_error());
        vector & 1 == 1
    }

    #[test]
    fn a_coroutine_gives_back_its_bottom_page_and_puts_the_sentinel_back() {
        let checks = || {
            let state = StackState::new();
            state.enter(super::super::default_stack_bytes());
            let State::Entered { entry, bytes } = state.0.get() else { panic!("enter did not record the stack") };
            let (bottom, top, sentinel) = locate(entry, bytes).expect("the stack's bottom is found");
            assert!((bottom..top).contains(&entry));
            assert!(resident(bottom), "generator wrote the sentinel, so the bottom page is resident");

            state.release_unused();
            let State::Located { bottom: found, sentinel: kept, .. } = state.0.get() else {
                panic!("the stack was not located: {:?}", state.0.get())
            };
            assert_eq!((found, kept), (bottom, sentinel));
            assert!(!resident(bottom), "the bottom page is given back");

            // A deep call touches the bottom page again; the next release within a second leaves it, a later one
            // gives it back again.
            // SAFETY: the stack's first word, far below this frame.
            unsafe { (bottom as *mut usize).write_volatile(0) };
            assert!(resident(bottom));
            state.release_unused();
            assert!(resident(bottom), "released again within a second");
            let State::Located { bottom, top, sentinel, .. } = state.0.get() else { unreachable!() };
            state.0.set(State::Located { bottom, top, sentinel, released_ms: 1 });
            state.release_unused();
            assert!(!resident(bottom), "given back again once a second has passed");

            state.restore();
            // SAFETY: the bottom words of this coroutine's own stack, checked by `locate`.
            let words: Vec<usize> =
                (0..SENTINEL_WORDS).map(|i| unsafe { (bottom as *const usize).add(i).read() }).collect();
            assert_eq!(words, vec![sentinel; SENTINEL_WORDS]);
        };
        // SAFETY: the coroutine uses no thread-local storage and is not cancelled.
        let coroutine = unsafe { may::coroutine::Builder::new().spawn(checks) }.expect("spawn");
        // A failed assertion inside fails the join; generator itself would panic on a missing sentinel.
        coroutine.join().expect("the coroutine's checks pass");
    }

    #[test]
    fn a_plain_thread_stack_is_left_alone() {
        let state = StackState::new();
        state.enter(super::super::default_stack_bytes());
        state.release_unused();
        assert!(matches!(state.0.get(), State::Untracked), "{:?}", state.0.get());
        state.restore();
    }
}
