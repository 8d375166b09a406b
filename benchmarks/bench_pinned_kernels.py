"""What the test suite's AVX2 pin costs: train steps with the CPU's native kernels against AVX2.

    python benchmarks/bench_pinned_kernels.py                   # U-Net, dilated U-Net, DeepLabV3+
    python benchmarks/bench_pinned_kernels.py --models unet --steps 10 --rounds 5

The suite, ``make run`` and ``tools/refresh_notebooks.py`` run PyTorch's CPU kernels at AVX2
on every x86-64 machine (``seglib.seeding.pin_cpu_kernels``), so that the notebooks print the same
numbers with and without AVX512.  On a CPU with AVX512 that gives up speed; this measures how
much.  PyTorch reads the kernel choice once per process, so each measurement is a child
process: ``fit``'s own ``train_step`` on the notebooks' recipe (96x128, batch 8, 2 threads,
AdamW, cross-entropy), timed by ``seglib.costs.seconds_per_call`` over ``--steps`` steps after 2
warm-up steps, with the native kernels (the baseline) and with the
pin, alternately, ``--rounds`` times; the table gives the median images/s of each and the
ratio (> 1: the pin is faster).  Both start from the same seed, so the last column says
whether their losses were bitwise equal: on a CPU without AVX512 they are (the pin changes
nothing there); with AVX512 they are not, which is why the suite pins.
"""

import argparse
import json
import os
import subprocess
import sys

import torch
from common import hardware, median

from seglib.seeding import PINNED_KERNELS

CHILD = """
import json, sys
import torch
import seglib
from seglib.costs import seconds_per_call
from seglib.train.step import make_loss, train_step

name, steps = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
torch.set_num_threads(2)
model = seglib.create_model(name, num_classes=9).train()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
images, masks = torch.randn(8, 3, 96, 128), torch.randint(0, 9, (8, 96, 128))
scaler, loss_fn, losses = torch.amp.GradScaler("cpu", enabled=False), make_loss(), []
step = lambda: losses.append(train_step(model, images, masks, optimizer, loss_fn, scaler, None).item())
seconds = seconds_per_call(step, steps, 2, torch.device("cpu"))  # fit's own step, after 2 warm-up steps
print(json.dumps({"images_per_s": 8 / seconds, "losses": losses,
                  "capability": torch.backends.cpu.get_cpu_capability()}))
"""

def child_run(name: str, steps: int, pinned: bool) -> dict:
    """One child process's measurement: images/s, its losses, its kernels' capability."""
    env = {k: v for k, v in os.environ.items() if k not in PINNED_KERNELS}
    if pinned:
        env.update(PINNED_KERNELS)
    done = subprocess.run([sys.executable, "-c", CHILD, name, str(steps)], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["unet", "dilated_unet", "deeplabv3plus"])
    parser.add_argument("--steps", type=int, default=8, help="timed steps per child process")
    parser.add_argument("--rounds", type=int, default=3, help="child processes per variant, alternated")
    args = parser.parse_args(argv)
    print(f"# {hardware(torch.device('cpu'))}; train step 96x128 b8, {args.steps} steps x "
          f"{args.rounds} rounds per variant")
    print(f"\n{'model':<16} {'native':>22} {'pinned':>14} {'ratio':>7}  same losses")
    for name in args.models:
        runs = {False: [], True: []}
        for _ in range(args.rounds):
            for pinned in (False, True):
                runs[pinned].append(child_run(name, args.steps, pinned))
        native, pinned = (median([r["images_per_s"] for r in runs[p]]) for p in (False, True))
        same = runs[False][0]["losses"] == runs[True][0]["losses"]
        label = f"{native:6.1f} img/s ({runs[False][0]['capability']})"
        print(f"{name:<16} {label:>22} {pinned:8.1f} img/s {pinned / native:6.2f}x  {'yes' if same else 'no'}")


if __name__ == "__main__":
    main()
