"""The suite's CPU kernels are pinned to AVX2 on x86-64 (seglib.seeding.pin_cpu_kernels, applied by the
root conftest.py), in this process and in every process it starts, notebook kernels included."""

import os
import platform
import subprocess
import sys

import pytest
import torch

from seglib.seeding import PINNED_KERNELS, X86_64, pin_cpu_kernels

X86 = platform.machine().lower() in X86_64
PINNED_HERE = all(os.environ.get(name) == value for name, value in PINNED_KERNELS.items())
needs_pins = pytest.mark.skipif(not (X86 and PINNED_HERE),
                                reason="not x86-64, or a pinned variable was overridden in the environment")


def test_pins_are_added_on_x86_64_and_leave_what_is_set():
    environ = {"ONEDNN_MAX_CPU_ISA": "ALL", "PATH": "/bin"}
    added = pin_cpu_kernels(environ, machine="x86_64")
    assert added == {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
    assert environ == {"ONEDNN_MAX_CPU_ISA": "ALL", "PATH": "/bin", **added}  # the user's choice wins
    assert pin_cpu_kernels(environ, machine="x86_64") == {}  # a second call adds nothing


@pytest.mark.parametrize("machine", ["aarch64", "arm64"])
def test_nothing_is_pinned_off_x86(machine):
    environ = {}
    assert pin_cpu_kernels(environ, machine=machine) == {} and environ == {}


def test_the_conftest_pinned_this_environment():
    if X86:
        for name, value in PINNED_KERNELS.items():  # set unless the developer set it first
            assert name in os.environ, f"{name} not set: conftest.py did not pin the kernels"
    else:
        assert "ATEN_CPU_CAPABILITY" not in os.environ or os.environ["ATEN_CPU_CAPABILITY"] != "avx2"


@needs_pins
def test_the_pin_takes_effect_in_this_process():
    assert torch.backends.cpu.get_cpu_capability() == "AVX2"


@needs_pins
@pytest.mark.slow
def test_a_child_process_runs_avx2_kernels_in_torch_and_onednn():
    code = ("import torch\n"
            "with torch.no_grad(): torch.nn.Conv2d(8, 8, 3)(torch.randn(2, 8, 16, 16))\n"
            "print('capability', torch.backends.cpu.get_cpu_capability())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "ONEDNN_VERBOSE": "1"})
    assert "capability AVX2" in done.stdout
    isa = [line for line in done.stdout.splitlines() if ",isa:" in line]
    assert isa, f"oneDNN printed no ISA line:\n{done.stdout[-2000:]}"
    assert isa[0].endswith("isa:Intel AVX2"), isa[0]  # not "AVX-512 ..."
    convolution = [line for line in done.stdout.splitlines() if ",convolution," in line]
    assert convolution and "avx512" not in convolution[0], convolution


@needs_pins
@pytest.mark.slow
def test_a_notebook_kernel_inherits_the_pin():
    from jupyter_client.manager import start_new_kernel

    printed = []
    manager, client = start_new_kernel(kernel_name="python3", extra_arguments=["--log-level=ERROR"])
    try:
        reply = client.execute_interactive("import torch; print(torch.backends.cpu.get_cpu_capability())",
                                           timeout=60, output_hook=printed.append)
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    text = "".join(m["content"].get("text", "") for m in printed if m["msg_type"] == "stream")
    assert text.strip() == "AVX2"
