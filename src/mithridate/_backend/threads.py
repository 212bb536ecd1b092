"""One thread pool for the compiled kernels (they release the GIL): a batch split in one chunk per thread.

The pool is made again after a fork: a pool inherited by a forked process (a DataLoader worker) has no
threads, and work submitted to it would wait forever.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import torch

__all__ = ["split"]

_pool: ThreadPoolExecutor | None = None
_pool_key: tuple[int, int] | None = None
_lock = threading.Lock()


def _executor(threads: int) -> ThreadPoolExecutor:
    """The pool of `threads` workers of this process."""
    global _pool, _pool_key
    key = (os.getpid(), threads)
    with _lock:
        if _pool is None or _pool_key != key:
            _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mithridate-native")
            _pool_key = key
        return _pool


def split(n: int, body: Callable[[int, int], None], min_per_thread: int = 1) -> None:
    """Run body(start, stop) over [0, n) in one chunk per thread (`torch.get_num_threads()`, fewer when
    chunks would hold less than `min_per_thread` items); the calling thread runs a single chunk itself."""
    threads = max(1, min(torch.get_num_threads(), n // max(min_per_thread, 1)))
    if threads == 1:
        body(0, n)
        return
    bounds = [n * k // threads for k in range(threads + 1)]
    pool = _executor(threads)
    futures = [pool.submit(body, bounds[k], bounds[k + 1]) for k in range(threads)]
    for future in futures:
        future.result()
