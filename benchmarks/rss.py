"""Peak resident memory of this process, resettable (Linux): shared by the benchmarks."""

from __future__ import annotations

import ctypes
import gc
import resource
import sys

__all__ = ["maxrss", "reset_peak"]


def maxrss() -> int:
    """Peak RSS of this process.  On Linux the mm's own high-water mark (``VmHWM``): it is
    what ``/proc/self/clear_refs`` resets.  ``ru_maxrss`` is not used there because the
    kernel also folds into it the high-water mark of the parent at fork/exec time and of
    threads that have exited, which ``clear_refs`` does not reset."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024


def reset_peak() -> bool:
    """Release freed heap to the OS and reset the RSS high-water mark (Linux)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
