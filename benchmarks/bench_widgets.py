"""Widget updates against redrawing a matplotlib figure, on synthetic val scenes.

    python benchmarks/bench_widgets.py                     # 512x1024, 2 torch threads
    python benchmarks/bench_widgets.py --size 256x512 --repeats 30
    python benchmarks/bench_widgets.py --panel-width 0    # panels at full resolution

For the DatasetBrowser and the PredictionExplorer: the time of one update after a move of the
sample slider (between items already seen), the alpha slider and a class toggle, median and
90th percentile, against the matplotlib way measured in the same run and alternating with it:
the same panels (overlays and error maps computed with seglib.viz) drawn with imshow, the canvas
drawn and saved as PNG, per update.  The first view of an item (load and resize; for the
explorer also the model's prediction) is timed separately: it happens once per item.
"""

import argparse
import io
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import timed_lists  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import seglib  # noqa: E402
from seglib.params import parse_size  # noqa: E402
from seglib.viz import as_rgb, error_map, overlay  # noqa: E402
from seglib.widgets import DatasetBrowser, PredictionExplorer  # noqa: E402


class MatplotlibRedraw:
    """The baseline: one figure with a row of axes, every panel re-drawn and saved per update."""

    def __init__(self, panels):
        self.fig = Figure(figsize=(4 * panels, 2.4), dpi=100)
        self.axes = self.fig.subplots(1, panels)

    def draw(self, pictures):
        for ax, picture in zip(self.axes, pictures):
            ax.clear()
            ax.imshow(picture, interpolation="nearest")
            ax.axis("off")
        self.fig.canvas.draw()
        self.fig.savefig(io.BytesIO(), format="png")


def baseline_update(dataset, predictions, state):
    """What a matplotlib callback does for the current (index, alpha, hidden classes)."""
    image, mask = state["items"][state["index"]]  # cached, as the widget's items are
    shown = mask.clone()
    for c in state["hidden"]:
        shown[mask == c] = 255  # hidden: the plain image, as ignored pixels are
    pictures = [as_rgb(image), overlay(image, shown, dataset.colors, state["alpha"])]
    for prediction in predictions.get(state["index"], []):
        visible_prediction = prediction.clone()
        for c in state["hidden"]:
            visible_prediction[prediction == c] = 255
        pictures += [overlay(image, visible_prediction, dataset.colors, state["alpha"]), error_map(prediction, mask)]
    state["figure"].draw(pictures)


def updates(widget):
    """The three slider moves, each a function that makes one (alternating) change."""
    def index():
        widget.index.value = 1 - widget.index.value

    def alpha():
        widget.alpha.value = 0.7 if widget.alpha.value < 0.5 else 0.3

    def toggle():
        widget.class_toggles[0].value = not widget.class_toggles[0].value

    return {"index change": index, "alpha change": alpha, "class toggle": toggle}


def baseline_updates(state, redraw):
    def index():
        state["index"] = 1 - state["index"]
        redraw()

    def alpha():
        state["alpha"] = 0.7 if state["alpha"] < 0.5 else 0.3
        redraw()

    def toggle():
        state["hidden"] = set() if state["hidden"] else {0}
        redraw()

    return {"index change": index, "alpha change": alpha, "class toggle": toggle}


def first_view_seconds(widget, indices):
    """Median seconds of moving to items not seen yet (load, resize, predict, render)."""
    seconds = []
    for index in indices:
        start = time.perf_counter()
        widget.index.value = index
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def bench(name, widget, dataset, predictions, repeats):
    state = {"index": 0, "alpha": 0.5, "hidden": set(), "items": {i: dataset[i] for i in (0, 1)},
             "figure": MatplotlibRedraw(2 + 2 * len(predictions.get(0, [])))}
    redraw = lambda: baseline_update(dataset, predictions, state)  # noqa: E731
    ours, theirs = updates(widget), baseline_updates(state, redraw)
    rows = []
    for kind in ours:
        t_base, t_ours = timed_lists(theirs[kind], ours[kind], repeats)
        rows.append((name, kind, np.median(t_ours), np.percentile(t_ours, 90), np.median(t_base)))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="512x1024", help="image size HxW")
    parser.add_argument("--repeats", type=int, default=15, help="timed updates of each kind")
    parser.add_argument("--panel-width", type=int, default=512, help="widest panel shown, px (0: full size)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for the model")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    size = parse_size(args.size)
    panel_width = args.panel_width or None
    dataset = seglib.get_dataset("synthetic", "val", image_size=size, length=8)
    torch.manual_seed(0)
    model = seglib.create_model("unet", num_classes=dataset.num_classes, base_channels=8)
    print(f"synthetic val {size[0]}x{size[1]}, unet base_channels=8 on the CPU, {args.threads} torch threads")

    start = time.perf_counter()
    browser = DatasetBrowser(dataset, panel_width=panel_width)
    print(f"DatasetBrowser: built (first view) in {1e3 * (time.perf_counter() - start):.0f} ms; "
          f"first view of a new item {1e3 * first_view_seconds(browser, [2, 3, 4]):.0f} ms (load + resize)")
    browser.index.value = 1
    browser.index.value = 0
    rows = bench("DatasetBrowser", browser, dataset, {}, args.repeats)

    start = time.perf_counter()
    explorer = PredictionExplorer(dataset, {"unet": model}, panel_width=panel_width)
    print(f"PredictionExplorer: built (first view) in {1e3 * (time.perf_counter() - start):.0f} ms; "
          f"first view of a new item {1e3 * first_view_seconds(explorer, [2, 3]):.0f} ms (load + predict)")
    explorer.index.value = 1
    explorer.index.value = 0  # items 0 and 1 now cached, as the timed index moves expect
    predictions = {i: [seglib.predict(model, dataset[i][0])] for i in (0, 1)}
    rows += bench("PredictionExplorer", explorer, dataset, predictions, args.repeats)

    print(f"\n{'widget':<20} {'update (cached item)':<22} {'median ms':>9} {'p90 ms':>8} "
          f"{'matplotlib ms':>13} {'speed-up':>9}")
    for name, kind, median, p90, base in rows:
        print(f"{name:<20} {kind:<22} {1e3 * median:9.1f} {1e3 * p90:8.1f} {1e3 * base:13.1f} {base / median:8.0f}x")
    print(f"view sizes: browser {browser.view().shape[1]}x{browser.view().shape[0]}, "
          f"explorer {explorer.view().shape[1]}x{explorer.view().shape[0]} px (panel_width={panel_width}); "
          "matplotlib figures 400 px per panel at full resolution")


if __name__ == "__main__":
    main()
