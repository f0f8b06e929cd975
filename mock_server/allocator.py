"""Keep the server's RSS tracking its live memory (glibc only; elsewhere nothing happens).

Rendering runs in worker threads, and glibc gives threads their own malloc arenas; image buffers of a
few MB are served from those arenas once glibc's dynamic mmap threshold has risen past them, and freed
memory stays in the arena. Under a long mixed load RSS then creeps up although every cache is full.
A fixed mmap threshold (1 MiB) returns every large buffer to the system when it is freed, and two arenas
keep small-object fragmentation from multiplying by the thread count.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["limit_allocator_growth"]

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def limit_allocator_growth(mmap_threshold: int = 1024 * 1024, arenas: int = 2) -> bool:
    """Apply the settings above to this process; False where there is no glibc ``mallopt``."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_ARENA_MAX, arenas))
