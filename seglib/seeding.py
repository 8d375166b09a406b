"""Seeds and kernels: the one rule for where randomness starts, so that a run repeats exactly,
and the same CPU kernels on every x86-64 machine, so that it repeats on another machine too.

* ``seed_everything(seed)`` seeds Python, NumPy and torch.  A notebook calls it in its set-up,
  and the training recipe calls it again right before building each model, so a model's
  initial weights depend on the seed alone (not on what ran before).
* ``fit`` seeds torch with its ``seed`` before training (dropout and other randomness inside
  the model) and derives every other stream it needs from it with ``derived_seed``:
  the data order of epoch ``e`` (``EpochSampler``) and the batch augmentation of step ``s``.
* ``pin_cpu_kernels()`` caps PyTorch's CPU kernels at AVX2 (see its docstring): the test
  suite, ``make run`` and ``tools/refresh_notebooks.py`` call it, so the committed notebooks
  print the same numbers on CPUs with and without AVX512.
"""

import os
import platform
import random

import numpy as np
import torch

PINNED_KERNELS = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
}
X86_64 = {"x86_64", "amd64"}
SEED_STRIDE = 1_000_003  # a prime: derived seeds of nearby seeds do not collide


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def derived_seed(seed: int, index: int) -> int:
    """The seed of stream ``index`` (an epoch, a step) of a run seeded with ``seed``."""
    return seed * SEED_STRIDE + index


def pin_cpu_kernels(environ=None, machine: str | None = None) -> dict:
    """Cap the CPU kernels at AVX2 on an x86-64 ``machine`` (this one): set the variables of
    ``PINNED_KERNELS`` not already set in ``environ`` (``os.environ``); returns what was set.

    PyTorch picks its CPU kernels by the processor: AVX512 where the CPU has it, else AVX2.  The
    two round differently, so the same seed trains to other weights.  Every x86-64 CPU of the
    last decade has AVX2.  ``ATEN_CPU_CAPABILITY`` caps PyTorch's own vectorised kernels
    (``torch.backends.cpu.get_cpu_capability()``), ``ONEDNN_MAX_CPU_ISA`` oneDNN's convolutions,
    pooling and normalisation, ``MKL_ENABLE_INSTRUCTIONS`` MKL's matrix products on Intel CPUs.
    A variable already set wins (``ATEN_CPU_CAPABILITY=avx512 ONEDNN_MAX_CPU_ISA=ALL`` to time
    the native kernels); elsewhere (ARM) nothing is set.  Each is read when its library first
    runs a kernel: call this before any tensor work (importing torch or seglib runs none); the
    processes started afterwards, notebook kernels included, inherit the variables."""
    environ = os.environ if environ is None else environ
    if (machine or platform.machine()).lower() not in X86_64:
        return {}
    added = {name: value for name, value in PINNED_KERNELS.items() if name not in environ}
    environ.update(added)
    return added
