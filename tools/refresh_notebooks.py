"""Re-execute the committed notebooks in place, so their stored outputs match the library.

    python tools/refresh_notebooks.py                 # every notebook in notebooks/
    python tools/refresh_notebooks.py notebooks/00_data_and_metrics.ipynb
    python tools/refresh_notebooks.py --from runs/latest  # adopt `make run`'s executed copies

Runs each notebook top to bottom with its default parameters (what nbval re-checks) and
keeps the committed copy small and clean: no stored widget state and no widget views
(a saved progress bar would show its first frame, "0/250", forever; a seglib widget keeps
its static image), no timestamps.  Run it after a change
to seglib that alters what a notebook prints, then commit the notebooks.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--from", dest="run_dir", help="adopt the executed copies in this folder (from `make run`)")
    args = parser.parse_args(argv)
    # The kernel inherits this environment: a non-interactive backend (CI sets MPLBACKEND=Agg)
    # would make it drop every figure from the committed outputs.
    os.environ.pop("MPLBACKEND", None)
    for path in [Path(p) for p in args.notebooks] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        start = time.perf_counter()
        if args.run_dir:
            adopt(path, args.run_dir)
            print(f"{path.name}: adopted from {args.run_dir}, {path.stat().st_size / 1e3:.0f} kB")
            continue
        refresh(path, args.timeout)
        print(f"{path.name}: re-executed in {time.perf_counter() - start:.0f} s, {path.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    sys.exit(main())
