"""Colourising and overlaying masks (values checked pixel by pixel), and the figures build."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from seglib import get_dataset, viz  # noqa: E402
from seglib.data import denormalize  # noqa: E402

COLORS = ((10, 20, 30), (200, 100, 0))


def test_colorize_uses_the_palette_and_blacks_out_ignore():
    mask = torch.tensor([[0, 1], [255, 1]])
    rgb = viz.colorize(mask, COLORS)
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 2, 3)
    assert rgb[0, 0].tolist() == [10, 20, 30] and rgb[0, 1].tolist() == [200, 100, 0]
    assert rgb[1, 0].tolist() == [0, 0, 0]


def test_overlay_blends_known_pixels_and_keeps_ignored_ones():
    image = np.full((1, 2, 3), 100, dtype=np.uint8)
    out = viz.overlay(image, np.array([[1, 255]]), COLORS, alpha=0.25)
    assert out[0, 0].tolist() == [125, 100, 75]  # 0.75 * 100 + 0.25 * colour
    assert out[0, 1].tolist() == [100, 100, 100]


def test_denormalize_inverts_the_dataset_normalisation():
    data = get_dataset("synthetic", "val", length=1, image_size=(32, 32))
    image, _ = data[0]
    raw, _ = data.load(0)
    assert np.abs(denormalize(image).astype(int) - raw.astype(int)).max() <= 1


def test_figures_build():
    data = get_dataset("synthetic", "val", length=2, image_size=(32, 32))
    fig = viz.show_samples(data, indices=(0, 1), predictions=[data[0][1], data[1][1]])
    assert len(fig.axes) == 8
    fig = viz.plot_class_iou([0.9, float("nan"), 0.5], ["a", "b", "c"])
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "mIoU 0.70"


def test_show_predictions_has_a_column_per_model(stripes, tiny_unet):
    data = stripes(length=4, image_size=(32, 32))
    fig = viz.show_predictions(data, {"a": tiny_unet(), "b": tiny_unet(seed=1)}, indices=(0, 1))
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 8 and titles[0] == "#0 image" and titles[2].startswith("a (")
