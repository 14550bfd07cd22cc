"""How much memory a forward pass takes, measured, and the batch that keeps it under a bound.

The activations of a convolutional encoder grow with the image (an SD-shaped VAE holds about
170 MB per 256-px image at its peak, 2.7 GB at 1,024 px), so a fixed batch size either wastes
the machine or exhausts it. :func:`forward_peak_bytes` runs the model once on one image and
follows every tensor its operators create until it is freed (a ``TorchDispatchMode``, the same
on CPU and GPU, no allocator statistics needed); the peak of the live total, times the batch, is
what a batch adds to the memory the process already holds.
"""

from __future__ import annotations

import math
import resource
import sys
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

# Allocator slack on top of the live tensors (freed blocks the allocator keeps, workspaces of
# convolution kernels that are not tensors): measured ≤ 1.2x on the SD-shaped VAE of
# bench/bench_scale.py.
SLACK = 1.25
# The fixed part is rounded up to this, so that the batch chosen does not change from run to
# run with the process's last few megabytes.
ROUND = 128 << 20


class _LiveBytes(TorchDispatchMode):
    """The bytes of the tensors created under it that are still alive, and their peak."""

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[int, int] = {}
        self.current = self.peak = 0

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Nothing is compiled under it: wrapping it for dynamo would import dynamo (4 s).
        return False

    def _freed(self, key: int) -> None:
        self.current -= self.live.pop(key, 0)

    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor):
                storage = t.untyped_storage()
                key, size = storage.data_ptr(), storage.nbytes()
                if size and key not in self.live:  # a view shares its base's bytes
                    self.live[key] = size
                    self.current += size
                    weakref.finalize(t, self._freed, key)
        self.peak = max(self.peak, self.current)
        return out


def forward_peak_bytes(fn: Callable[[torch.Tensor], Any], x: torch.Tensor) -> int:
    """The most bytes of intermediate tensors alive at once while ``fn(x)`` runs."""
    tracker = _LiveBytes()
    with torch.inference_mode(), tracker:
        fn(x)
    return tracker.peak


def held_bytes(device: torch.device) -> int:
    """What the process holds now: the device's allocated memory on a GPU, the resident set
    (its high-water mark where /proc is missing) on the CPU."""
    if device.type == "cuda":
        return int(torch.cuda.memory_allocated(device))
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def batch_for_memory(per_item: int, fixed: int, max_memory: int, cap: int) -> int:
    """The largest batch up to ``cap`` with ``fixed + SLACK x batch x per_item`` within
    ``max_memory`` (``fixed`` rounded up to 128 MiB); 0 when not even one item fits."""
    fixed = math.ceil(fixed / ROUND) * ROUND
    room = max_memory - fixed
    return max(0, min(cap, int(room // (SLACK * max(1, per_item)))))
