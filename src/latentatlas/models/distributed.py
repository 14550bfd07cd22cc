"""Rank and world size of this process under ``torchrun`` (gloo on CPU, nccl on GPU)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import torch
import torch.distributed as dist

from latentatlas.core.errors import LatentAtlasError
from latentatlas.models.tensors import resolve_device


class Distributed:
    """Rank/world of this process; initialises the process group when started by torchrun."""

    def __init__(self, device: torch.device) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.active = self.world > 1
        # nccl collectives take tensors on the GPU, gloo ones on the CPU.
        self.device = device if device.type == "cuda" else torch.device("cpu")
        if self.active and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank."""
        if not self.active:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0, device=self.device)
        return box[0]

    def all_gather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order, on every rank."""
        if not self.active:
            return [obj]
        box: list[Any] = [None] * self.world
        dist.all_gather_object(box, obj)
        return box

    def agree(self, error: BaseException | None) -> None:
        """Raise on every rank when any rank failed, so that no rank waits forever for one that
        has stopped: the failed rank re-raises its own error, the others a pointer to it."""
        if self.active:
            flag = torch.tensor([0 if error is None else 1], device=self.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            failed = bool(flag.item())
        else:
            failed = error is not None
        if error is not None:
            raise error
        if failed:
            raise LatentAtlasError("another process of this torchrun failed (see its error)")

    @contextmanager
    def together(self) -> Iterator[None]:
        """Run a block on every rank; it fails on every rank if it fails on any.

        It is also the barrier: ranks leave it together, and when the rank that works inside it
        fails (rank 0 writing a checkpoint), the others fail with a line that says so.
        """
        try:
            yield
        except Exception as e:
            self.agree(e)
        self.agree(None)

    def close(self) -> None:
        if self.active and dist.is_initialized():
            dist.destroy_process_group()


def device_for_rank(name: str) -> torch.device:
    """The device ``name``, with torchrun's LOCAL_RANK choosing the GPU when none is named."""
    device = resolve_device(name)
    if device.type == "cuda" and device.index is None and "LOCAL_RANK" in os.environ:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def exit_now(code: int) -> NoReturn:
    """End this process of a torchrun with ``code``, without Python's shutdown.

    Gloo's worker threads outlive ``destroy_process_group`` (DDP keeps the group alive), and one
    of them may release a finished collective while Python shuts down. A collective launched in
    backward holds Python state, so releasing it then aborts the process ("terminate called
    without an active exception"; pytorch/pytorch#179291): 3 of 122 two-process trainings under
    load. Outputs are written atomically and closed by now; only the streams need flushing.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    logging.shutdown()
    os._exit(code)
