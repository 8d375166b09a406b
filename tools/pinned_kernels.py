"""The same CPU kernels on every x86-64 machine, so a notebook prints the same numbers on each.

PyTorch picks its CPU kernels by the processor's instruction set: AVX512 where the CPU has
it, else AVX2.  The two round differently (other vector widths, other summation orders), so
the same seed trains to other weights, and the numbers a committed notebook prints stop
matching on the next machine.  The test suite (``conftest.py``), ``make run`` and
``tools/refresh_notebooks.py`` therefore cap every x86-64 machine at AVX2, which every x86-64
CPU of the last decade has:

* ``ATEN_CPU_CAPABILITY=avx2``: PyTorch's own vectorised kernels (``torch.backends.cpu.get_cpu_capability()``);
* ``ONEDNN_MAX_CPU_ISA=AVX2``: oneDNN's convolutions, pooling and normalisation;
* ``MKL_ENABLE_INSTRUCTIONS=AVX2``: MKL's matrix products (on AMD CPUs MKL takes its AVX2 path anyway).

A variable already set in the environment wins (``ATEN_CPU_CAPABILITY=avx512
ONEDNN_MAX_CPU_ISA=ALL``, say, to time the native kernels).  Elsewhere (ARM, a laptop's
JupyterLab) nothing is pinned: numbers may differ in the last digits, and facts checked by
nbval are margins wide enough for that.  Each is read when its
library first runs a kernel, so setting them in a running process works until then, and every
process started afterwards (the notebook kernels) inherits them.
"""

import os
import platform

PINNED_KERNELS = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
}
X86_64 = {"x86_64", "amd64"}


def pin_cpu_kernels(environ=None, machine: str | None = None) -> dict:
    """Set the variables of ``PINNED_KERNELS`` not already set in ``environ`` (``os.environ``),
    on an x86-64 ``machine`` (this one) only; returns what was set."""
    environ = os.environ if environ is None else environ
    if (machine or platform.machine()).lower() not in X86_64:
        return {}
    added = {name: value for name, value in PINNED_KERNELS.items() if name not in environ}
    environ.update(added)
    return added
