"""Colourising, overlays and error maps (checked pixel by pixel), and the figures show the right data."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from seglib import ConfusionMatrix, History, get_dataset, predict, viz, worst_images  # noqa: E402
from seglib.data import denormalize  # noqa: E402

COLORS = ((10, 20, 30), (200, 100, 0))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


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


def test_error_map_marks_exactly_the_wrong_pixels_and_greys_ignored_ones():
    mask = np.array([[0, 1, 255], [1, 1, 0]])
    pred = np.array([[0, 0, 1], [1, 0, 0]])
    out = viz.error_map(pred, mask)
    wrong = np.all(out == viz.ERROR_COLORS["wrong"], axis=-1)
    grey = np.all(out == viz.ERROR_COLORS["ignore"], axis=-1)
    assert wrong.tolist() == [[False, True, False], [False, True, False]]
    assert grey.tolist() == [[False, False, True], [False, False, False]]


def test_plot_confusion_rows_sum_to_one_with_class_names_on_both_axes():
    pred = torch.tensor([[0, 1, 2, 1, 0, 0, 2]])
    target = torch.tensor([[0, 1, 1, 1, 0, 2, 255]])
    cm = ConfusionMatrix(4)
    cm.update(pred, target)
    counts = np.zeros((4, 4))
    for t, p in zip(target[0].tolist(), pred[0].tolist()):
        if t != 255:
            counts[t, p] += 1
    fig = viz.plot_confusion(cm, ["a", "b", "c", "d"])
    ax = fig.axes[0]
    shown = np.ma.filled(ax.images[0].get_array().astype(float), np.nan)
    with np.errstate(invalid="ignore"):
        expected = counts / counts.sum(1, keepdims=True)  # class d has no pixels: a NaN (blank) row
    np.testing.assert_allclose(shown, expected)
    assert np.isnan(shown[3]).all() and np.allclose(shown[:3].sum(1), 1)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c", "d"]
    assert ax.get_ylabel() == "true class" and ax.get_xlabel() == "predicted class"
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"{v:.2f}" for v in expected[:3].ravel())


def test_plot_confusion_takes_raw_counts_and_writes_no_values_for_many_classes():
    counts = np.arange(9).reshape(3, 3)
    ax = viz.plot_confusion(torch.tensor(counts), ["x", "y", "z"], normalize=False).axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), counts)
    assert ax.texts[5].get_text() == "5"
    many = [f"c{i}" for i in range(13)]
    assert len(viz.plot_confusion(np.eye(13), many).axes[0].texts) == 0


def test_show_errors_has_four_columns_and_its_error_panel_is_the_error_map(stripes, tiny_unet):
    data = stripes(length=2, image_size=(32, 32))
    model = tiny_unet()
    for given in (model, [predict(model, data[i][0]) for i in (0, 1)]):
        fig = viz.show_errors(data, given, indices=(0, 1))
        assert len(fig.axes) == 8
        for row, index in enumerate((0, 1)):
            image, mask = data[index]
            pred = predict(model, image)
            error_ax = fig.axes[4 * row + 3]
            np.testing.assert_array_equal(error_ax.images[0].get_array(), viz.error_map(pred, mask))
            accuracy = float((pred == mask)[mask != data.ignore_index].double().mean())
            assert f"{accuracy:.0%} px right" in error_ax.get_title()


class LookupModel(torch.nn.Module):
    """Recognises each of ``images`` (normalised [3, H, W]) and predicts its label map in ``predictions``."""

    def __init__(self, images, predictions, num_classes=3):
        super().__init__()
        self.images, self.predictions, self.num_classes = images, predictions, num_classes
        self.unused = torch.nn.Parameter(torch.zeros(()))  # gives the model a device

    def forward(self, x):
        labels = [next(p for image, p in zip(self.images, self.predictions) if torch.equal(image, sample))
                  for sample in x]
        return torch.nn.functional.one_hot(torch.stack(labels), self.num_classes).permute(0, 3, 1, 2).float()


def own_miou(prediction, mask, num_classes=3, ignore_index=255):
    """The mIoU of one image over the classes in its labels or its prediction, void left out."""
    valid = mask != ignore_index
    ious = [((prediction == c) & (mask == c) & valid).sum() / union
            for c in range(num_classes) if (union := (((prediction == c) | (mask == c)) & valid).sum())]
    return float(np.mean(ious))


@pytest.fixture
def graded(stripes):
    """Stripes val data and a model that gets the first ``damage[i]`` columns of image ``i`` wrong
    (images 1 and 3 equally wrong: a tie), with each image's mIoU computed here."""
    data = type("ValStripes", (stripes,), {"split": "val"})(length=6, image_size=(16, 24))
    damage = [3, 0, 9, 3, 6, 1]
    images, predictions = [], []
    for index, columns in enumerate(damage):
        image, mask = data[index]
        prediction = mask.clone()
        prediction[:, :columns] = (mask[:, :columns] + 1) % 3
        prediction[mask == 255] = 0
        images.append(image)
        predictions.append(prediction)
    mious = [own_miou(p.numpy(), data[i][1].numpy()) for i, p in enumerate(predictions)]
    return data, LookupModel(images, predictions), mious


def test_worst_images_lists_the_lowest_image_miou_first_ties_by_index(graded):
    data, model, mious = graded
    expected = sorted(range(len(data)), key=lambda i: (mious[i], i))
    assert mious[0] == mious[3] and expected[:3] == [2, 4, 0]
    for count in (1, 3, 6, 50):
        worst = worst_images(model, data, count, batch_size=4)
        assert [index for index, _ in worst] == expected[:count]
        np.testing.assert_allclose([miou for _, miou in worst], [mious[i] for i in expected[:count]])
        assert all(type(index) is int and type(miou) is float for index, miou in worst)


@pytest.mark.parametrize("count", [0, -2, 2.5, True, "3", None])
def test_worst_images_wants_a_positive_int_count(graded, count):
    data, model, _ = graded
    with pytest.raises(ValueError, match="count must be a positive int"):
        worst_images(model, data, count)


def test_show_worst_has_a_row_per_worst_image_titled_with_its_index_and_miou(graded):
    data, model, mious = graded
    fig = viz.show_worst(data, model, count=3, title="hardest val images")
    assert len(fig.axes) == 3 * 4 and fig._suptitle.get_text() == "hardest val images"
    for row, index in enumerate([2, 4, 0]):
        image, mask = data[index]
        assert fig.axes[4 * row].get_title() == f"val #{index}: image mIoU {mious[index]:.2f}"
        np.testing.assert_array_equal(fig.axes[4 * row + 2].images[0].get_array(),
                                      viz.colorize(model(image[None]).argmax(1)[0], data.colors))
        np.testing.assert_array_equal(fig.axes[4 * row + 3].images[0].get_array(),
                                      viz.error_map(model(image[None]).argmax(1)[0], mask))
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["left", "middle", "right", "void (ignored)", "error: wrong", "error: ignored"]


def test_show_legend_lists_the_classes_and_void():
    fig = viz.show_legend(["road", "sky", "car"], COLORS + ((1, 2, 3),), ncols=2)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["road", "sky", "car", "void (ignored)"]


def test_plot_class_iou_marks_nan_classes_absent():
    ax = viz.plot_class_iou([0.9, float("nan"), 0.5], ["a", "b", "c"]).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "c", "b"]
    assert [t.get_text() for t in ax.texts] == ["absent"] and ax.texts[0].get_position()[0] == 2


def history_of(steps):
    return History([{"step": s, "lr": 1e-3 / s, "train_loss": 1 / s, "miou": s / 100, "pixel_acc": s / 90}
                    for s in steps])


def lines_by_label(fig):
    return {line.get_label(): line for ax in fig.axes for line in ax.lines}


def test_plot_history_draws_loss_metrics_and_the_learning_rate():
    history = history_of((10, 20, 30))
    lines = lines_by_label(viz.plot_history(history))
    assert lines["learning rate"].get_xdata().tolist() == [10, 20, 30]
    assert lines["learning rate"].get_ydata().tolist() == history["lr"]
    assert lines["val mIoU"].get_ydata().tolist() == history["miou"]
    assert lines["train loss"].get_ydata().tolist() == history["train_loss"]
    _, ax = plt.subplots()  # the old call with a given axis still works
    assert lines_by_label(viz.plot_history(history, ax=ax))["learning rate"].get_ydata().tolist() == history["lr"]


def test_plot_history_marks_the_points_scored_on_fewer_val_images():
    records = history_of((10, 20, 30)).records
    history = History([{**record, "val_items": n} for record, n in zip(records, (25, 25, 200))])
    fig = viz.plot_history(history)
    assert "the first 25 val images; last point: all 200" in fig.axes[0].get_title()
    open_points = [line for ax in fig.axes for line in ax.lines if line.get_markerfacecolor() == "white"]
    assert [line.get_xdata().tolist() for line in open_points] == [[10, 20], [10, 20]]
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert legend == ["train loss", "val mIoU", "val pixel acc", "learning rate"]
    plt.close("all")
    same = History([{**record, "val_items": 200} for record in history_of((10, 20)).records])
    assert viz.plot_history(same).axes[0].get_title() == ""


@pytest.mark.slow
def test_importing_viz_loads_no_plotting_or_jupyter():
    code = "import sys, seglib.viz; print([m for m in ('matplotlib', 'IPython') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
