"""Shared by the benchmarks: resident memory of this process (peak, resettable on Linux;
now), its CPU time and a description of the machine."""

from __future__ import annotations

import ctypes
import gc
import os
import resource
import sys

__all__ = ["maxrss", "reset_peak", "rss_now", "cpu_times", "machine"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def cpu_times() -> tuple[float, float]:
    """CPU time of this process so far, all its threads: (user + system, system), seconds."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_stime


def rss_now() -> int | None:
    """Resident size now (Linux ``/proc/self/statm``), or None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return None


def machine() -> dict:
    """Cores, CPU model, RAM, OS and Python of this machine (for the reports)."""
    import platform

    import numpy as np
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "mem_bytes": mem,
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "numpy": np.__version__}


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
