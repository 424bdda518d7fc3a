"""Threads for a stack's blocks of members, and the allocator setting the training loop relies on.

Neither changes a number: blocks of members are computed from their own slices (see
:mod:`initreport.network`), and ``keep_heap`` only changes where freed bytes live.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np


class MemberThreads:
    """Threads that each work on a contiguous block of a stack's members.

    NumPy releases the GIL inside matmuls and ufunc loops, so blocks of members train in
    parallel on the cores; each thread calls BLAS single-threaded (the caller holds
    ``threadpool_limits(1)``). Blocks are views, never copies. ``threads=1`` runs in the
    calling thread.
    """

    def __init__(self, threads: int = 1):
        self.threads = max(1, int(threads))
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="initreport-members") \
            if self.threads > 1 else None
        self._stop = threading.Event()

    def blocks(self, n: int) -> list[tuple[int, int]]:
        k = max(1, min(self.threads, n))
        bounds = [n * i // k for i in range(k + 1)]
        return list(zip(bounds[:-1], bounds[1:]))

    def map(self, fn, n: int, *, interruptible: bool = False) -> list:
        """[fn(a, b) for each block (a, b) of n members], the blocks in parallel."""
        blocks = self.blocks(n)
        self._stop.clear()
        if self._executor is None or len(blocks) == 1:
            return [fn(a, b) for a, b in blocks]
        extra = {"stop": self._stop} if interruptible else {}

        def call(ab):
            with np.errstate(all="ignore"):    # error state is per thread; overflow is recorded as divergence
                return fn(*ab, **extra)

        futures = [self._executor.submit(call, ab) for ab in blocks]
        try:
            return [f.result() for f in futures]
        except BaseException:
            self._stop.set()        # Ctrl-C or an error: the other blocks stop at their next step
            raise

    def submit(self, fn, *args):
        """fn(*args) on one of the threads (at once, in this thread, without threads): a future."""
        if self._executor is None:
            from .diagnostics import _Done
            return _Done(fn(*args))

        def call():
            with np.errstate(all="ignore"):    # error state is per thread
                return fn(*args)
        return self._executor.submit(call)

    def close(self):
        if self._executor is not None:
            self._stop.set()
            self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def keep_heap() -> None:
    """Stop glibc from handing freed temporaries back to the OS (Linux/glibc only; else nothing).

    By default glibc serves large allocations with mmap and trims the heap top when a large
    block is freed, so each training step's temporaries (matmul outputs of a few hundred KiB)
    are mapped and zero-filled by the kernel again: ~1,000 page faults per step. Measured in a
    fresh process (8 seeds, 10 layers): width 64 trained 1.5× faster, width 256 1.2×; a
    long-lived process whose heap has already grown gains nothing. Raising both thresholds
    keeps the memory in the process for reuse; peak memory is unchanged, the process just does
    not shrink after its peak. Numbers are unaffected: only where the bytes live changes.
    """
    # Done once per process. The flag lives on the function, not in a module global: module data
    # is part of the run keys (keys.py), and a key must not depend on what the process has run.
    if getattr(keep_heap, "done", False) or not sys.platform.startswith("linux"):
        return
    keep_heap.done = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_trim_threshold, ctypes.c_int(1 << 30))
        libc.mallopt(m_mmap_threshold, ctypes.c_int(32 << 20))   # glibc's maximum on 64-bit
    except (OSError, AttributeError):
        pass                 # not glibc (musl, ...): nothing to tune
