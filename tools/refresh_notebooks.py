"""Re-execute the committed notebooks in place, so their stored outputs match the library.

    python tools/refresh_notebooks.py                 # every notebook in notebooks/
    python tools/refresh_notebooks.py notebooks/00_data_and_metrics.ipynb
    python tools/refresh_notebooks.py --from runs/latest  # adopt `make run`'s executed copies
    python tools/refresh_notebooks.py notebooks/00_data_and_metrics.ipynb --cells 12-20
                                                      # only these cells (e.g. new exercises)

Runs each notebook top to bottom with its default parameters (what nbval re-checks) and
keeps the committed copy small and clean: no stored widget state and no widget views
(a saved progress bar would show its first frame, "0/250", forever; a seglib widget keeps
its static image), no timestamps.  Run it after a change
to seglib that alters what a notebook prints, then commit the notebooks.  The kernels run
at AVX2 on every x86-64 machine (``seglib.seeding.pin_cpu_kernels``), as in the test suite.

``--cells`` re-executes only the cells given (indices, as ``12-20,25``) in a fresh kernel, after
the notebook's set-up cells (every cell up to the one that calls ``setup(``): for cells that
need nothing else, such as the exercises, so that a new exercise does not re-train every model.
The other cells keep their outputs; execution counts are renumbered in order.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from seglib.seeding import pin_cpu_kernels

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def without_widget_view(output):
    """The output minus its widget view; None when nothing else is left but a text repr
    (a progress bar's).  seglib's widgets also carry a static image of their first view:
    that stays, so the committed notebook shows it wherever the widget cannot run."""
    data = output.get("data", {})
    if WIDGET_VIEW not in data:
        return output
    data.pop(WIDGET_VIEW)
    return output if set(data) - {"text/plain"} else None


def clean(nb):
    """Drop widget views, widget state, and per-cell execution timestamps
    (they would make every refresh a diff of every cell)."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if "outputs" in cell:
            cell.outputs = [o for o in map(without_widget_view, cell.outputs) if o is not None]
    return nb


def adopt(path, run_dir):
    """Take ``make run``'s executed copy of ``path`` instead of executing it again: it must
    have run with the default parameters (nothing injected) and have the same sources."""
    executed = nbformat.read(Path(run_dir) / Path(path).name, as_version=4)
    source = nbformat.read(path, as_version=4)
    if any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells):
        raise SystemExit(f"{run_dir}/{Path(path).name} ran with non-default parameters: run `make run` again")
    if [c.source for c in executed.cells] != [c.source for c in source.cells]:
        raise SystemExit(f"{run_dir}/{Path(path).name} has other sources than {path}: run `make run` again")
    executed.metadata.pop("papermill", None)
    for cell in executed.cells:
        cell.metadata.pop("papermill", None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
    nbformat.write(clean(executed), path)


def refresh(path, timeout):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    client.execute()
    nbformat.write(clean(nb), path)


def parse_cells(text: str) -> list[int]:
    """``"3,12-14"`` -> ``[3, 12, 13, 14]``."""
    cells = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        cells.extend(range(int(first), int(last or first) + 1))
    return cells


def renumber(nb):
    """Execution counts 1, 2, 3... in cell order (and on the cells' execute_result outputs)."""
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output.execution_count = count


def refresh_cells(path, cells, timeout):
    nb = nbformat.read(path, as_version=4)
    setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "setup(" in c.source)
    chosen = [i for i in sorted(set(range(setup + 1)) | set(cells)) if nb.cells[i].cell_type == "code"]
    part = nbformat.v4.new_notebook(metadata=nb.metadata, cells=[nb.cells[i] for i in chosen])
    client = NotebookClient(part, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    client.execute()
    for i, cell in zip(chosen, part.cells):
        nb.cells[i].outputs = cell.outputs
    renumber(nb)
    nbformat.write(clean(nb), path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--from", dest="run_dir", help="adopt the executed copies in this folder (from `make run`)")
    parser.add_argument("--cells", type=parse_cells, help="re-execute only these cells, e.g. 12-20,25 (after set-up)")
    args = parser.parse_args(argv)
    # The kernel inherits this environment: a non-interactive backend (CI sets MPLBACKEND=Agg)
    # would make it drop every figure from the committed outputs.
    os.environ.pop("MPLBACKEND", None)
    pin_cpu_kernels()  # the kernels the suite's nbval runs use: the same numbers on every machine
    for path in [Path(p) for p in args.notebooks] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        start = time.perf_counter()
        if args.run_dir:
            adopt(path, args.run_dir)
            print(f"{path.name}: adopted from {args.run_dir}, {path.stat().st_size / 1e3:.0f} kB")
            continue
        if args.cells:
            refresh_cells(path, args.cells, args.timeout)
            print(f"{path.name}: cells {args.cells} re-executed in {time.perf_counter() - start:.0f} s")
            continue
        refresh(path, args.timeout)
        print(f"{path.name}: re-executed in {time.perf_counter() - start:.0f} s, {path.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    sys.exit(main())
