"""Data parallelism: which process am I, how many are there, and sums over all of them.

``torchrun --nproc_per_node=N`` starts N copies of a program and tells each its place in
the environment (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``); ``init`` joins them into one
process group (NCCL on GPUs, gloo on CPUs).  Without torchrun every helper answers as the
only process would: rank 0 of 1, sums are the tensor itself, barriers return at once.
"""

import contextlib
import os

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """True inside a process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    """Rank 0: the one process that prints, plots and saves."""
    return rank() == 0


def init(device: torch.device) -> torch.device:
    """Join the processes torchrun started (when ``WORLD_SIZE > 1`` and no group exists yet);
    return this process's device: ``cuda:LOCAL_RANK`` on GPUs, ``device`` otherwise."""
    launched = int(os.environ.get("WORLD_SIZE", 1)) > 1
    if device.type == "cuda" and device.index is None and (launched or is_distributed()):
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    if launched and not (dist.is_available() and dist.is_initialized()):
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def close():
    """Leave the process group (at the end of a torchrun program)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over all processes, in place; every process gets the total."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every process when ``flag`` is true on any, so that they all stop together."""
    if not is_distributed():
        return flag
    return bool(all_reduce_sum(torch.tensor(float(flag), device=device)) > 0)


def barrier():
    """Wait until every process gets here."""
    if is_distributed():
        dist.barrier()


@contextlib.contextmanager
def main_first():
    """Run the block on rank 0 first, then on the others: e.g. building a dataset cache once."""
    if not is_main():
        barrier()
    yield
    if is_main():
        barrier()
