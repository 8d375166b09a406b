"""Execute the course notebooks headless with papermill and print a summary.

    python tools/run_notebooks.py                       # every notebook, default parameters
    python tools/run_notebooks.py -p steps 50 -p seed 1 # the same parameters for each notebook
    python tools/run_notebooks.py notebooks/00_data_and_metrics.ipynb --output-dir runs/try

Executed copies go to ``--output-dir`` (``runs/latest`` by default, not committed).
Each notebook ends by printing ``FINAL val mIoU: x.xxx``; the summary collects it.
Exits non-zero when a notebook fails (the others still run).  A notebook whose lesson is a
real dataset (its metadata ``seglib.dataset``, e.g. 07 and CamVid) is skipped with one line
saying how to get the data when neither ``-p data_root`` nor ``$SEGLIB_<NAME>`` nor the
default folder has it; when ``$SEGLIB_<NAME>`` is set it runs (and fails if the data is not there).

The notebooks share a training cache (``seglib.train.cache``) in ``--training-cache``
(``runs/cache`` by default, git-ignored; ``$SEGLIB_TRAINING_CACHE`` when set): a model trained
with the same recipe by an earlier notebook (06 compares the models 01-05 trained) or an
earlier run is loaded, not trained again.  ``--fresh-cache`` empties it first, so the times
printed are those of a first run.

Every x86-64 machine runs the kernels at AVX2 (``seglib.seeding.pin_cpu_kernels``), as the test suite does, so
the numbers printed are those nbval compares on any other machine.
"""

import argparse
import ast
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import papermill

from seglib.seeding import pin_cpu_kernels

ROOT = Path(__file__).resolve().parents[1]
RESULT = re.compile(r"FINAL val mIoU: ([0-9.]+|nan)")
# ipykernel warns at every start that its local TCP sockets are not encrypted; the kernels
# papermill starts here listen on 127.0.0.1 only, so only errors are worth printing.
QUIET_KERNEL = ["--log-level=ERROR"]


def parse_value(text):
    """Papermill-like coercion: Python literals (ints, floats, tuples, None, True) or a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def final_miou(notebook_path):
    """The value of the last ``FINAL val mIoU: ...`` line in an executed notebook, or None."""
    found = None
    for cell in json.loads(Path(notebook_path).read_text())["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            for match in RESULT.finditer(text):
                found = float(match.group(1))
    return found


def skip_reason(notebook, parameters) -> str | None:
    """Why ``notebook`` cannot run here: its real dataset is missing (and nothing claims it is
    there: no ``data_root`` parameter, no ``$SEGLIB_<NAME>``), else None."""
    from seglib.data import missing_dataset
    from seglib.data.paths import environment_variable

    try:
        name = json.loads(Path(notebook).read_text())["metadata"].get("seglib", {}).get("dataset")
    except (OSError, ValueError, KeyError):  # unreadable: papermill will say what is wrong with it
        return None
    if not name or parameters.get("data_root") or os.environ.get(environment_variable(name)):
        return None
    return missing_dataset(name)


def progress_bar(notebook) -> dict:
    """papermill's progress bar (tqdm) over the notebook's cells, named after it, on stdout:
    a long notebook shows which cell it is at."""
    return {"desc": Path(notebook).name, "file": sys.stdout, "mininterval": 1.0, "dynamic_ncols": True}


def run(notebook, output_dir, parameters, timeout):
    """Execute one notebook; returns (seconds, final mIoU or None, error or None)."""
    output = Path(output_dir) / Path(notebook).name
    start = time.perf_counter()
    error = None
    try:
        papermill.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3",
                                   cwd=str(Path(notebook).parent), execution_timeout=timeout,
                                   progress_bar=progress_bar(notebook),
                                   extra_arguments=QUIET_KERNEL)
    except Exception as exc:  # report and go on with the next notebook
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
    seconds = time.perf_counter() - start
    return seconds, final_miou(output) if output.exists() else None, error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/[0-9]*.ipynb)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a parameter for every notebook, as with papermill -p")
    parser.add_argument("--output-dir", default=str(ROOT / "runs" / "latest"))
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--training-cache",
                        default=os.environ.get("SEGLIB_TRAINING_CACHE", str(ROOT / "runs" / "cache")),
                        help="the folder of trained models the notebooks share ('off': train everything)")
    parser.add_argument("--fresh-cache", action="store_true", help="empty the training cache first")
    args = parser.parse_args(argv)
    if args.fresh_cache and args.training_cache != "off":
        shutil.rmtree(args.training_cache, ignore_errors=True)
    os.environ["SEGLIB_TRAINING_CACHE"] = args.training_cache  # the kernels papermill starts inherit it
    pin_cpu_kernels()  # and these

    notebooks = [Path(p) for p in args.notebooks] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    parameters = {name: parse_value(value) for name, value in args.parameter}
    Path(args.output_dir).mkdir(parents=True, exist_ok=True)
    with_parameters = f" with {parameters}" if parameters else ""
    print(f"running {len(notebooks)} notebook(s) into {args.output_dir}{with_parameters}")

    rows, failed = [], False
    for notebook in notebooks:
        if reason := skip_reason(notebook, parameters):
            print(f"  {notebook.name}: skipped: {reason}", flush=True)
            rows.append((notebook.name, 0, "skipped", None))
            continue
        seconds, miou, error = run(notebook, args.output_dir, parameters, args.timeout)
        failed |= error is not None
        rows.append((notebook.name, seconds, miou, error))
        status = "FAILED " + error if error else "ok"
        print(f"  {notebook.name}: {seconds:.0f} s, {status}", flush=True)

    width = max(len(name) for name, *_ in rows)
    print(f"\n{'notebook':<{width}}  {'seconds':>7}  {'final val mIoU':>14}")
    for name, seconds, miou, error in rows:
        shown = "FAILED" if error else ("-" if miou is None else miou if isinstance(miou, str) else f"{miou:.3f}")
        print(f"{name:<{width}}  {seconds:7.0f}  {shown:>14}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
