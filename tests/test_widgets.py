"""The notebook widgets, headless: controls are set from Python and the rendered pictures,
tables and display bundles are checked against independent computations."""

import base64
import datetime
import io
import re
import time

import numpy as np
import pytest
import torch
from PIL import Image

from seglib import ConfusionMatrix, predict
from seglib.inference import photo_size
from seglib.viz import ERROR_COLORS, as_rgb, overlay
from seglib.widgets import ConfusionExplorer, DatasetBrowser, PhotoPredictor, PredictionExplorer, render

SIZE = (32, 64)


class ConstantModel(torch.nn.Module):
    """Predicts ``label`` everywhere and records (training mode, grad enabled) at each call."""

    def __init__(self, num_classes=3, label=0):
        super().__init__()
        self.num_classes, self.label, self.calls = num_classes, label, []
        self.bias = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled()))
        logits = torch.zeros(x.shape[0], self.num_classes, *x.shape[2:])
        logits[:, self.label] = 1
        return logits + self.bias


@pytest.fixture
def data(stripes):
    return stripes(length=4, image_size=SIZE)


def panel(widget, k, shape=SIZE):
    """Panel ``k`` of the widget's titled ``render.side_by_side`` row of equal ``shape`` panels."""
    height, width = shape
    left = k * (width + render.GAP)
    return widget.view()[render.TITLE_HEIGHT: render.TITLE_HEIGHT + height, left: left + width]


def decoded(widget):
    return render.decode(widget.image.value)


def check_bundle(widget):
    bundle = widget._repr_mimebundle_()
    assert "model_id" in bundle["application/vnd.jupyter.widget-view+json"]
    jpeg = base64.b64decode(bundle["image/jpeg"])
    assert jpeg[:2] == b"\xff\xd8" and len(jpeg) < 150_000


def model_confusion(model, data):
    """The ConfusionMatrix of ``model``'s predictions over ``data``, image by image."""
    cm = ConfusionMatrix(data.num_classes)
    for index in range(len(data)):
        image, mask = data[index]
        cm.update(predict(model, image)[None], mask[None])
    return cm


def table_cells(html_text):
    """The text of every right-aligned cell of an IoU table, row by row."""
    return re.findall(r'<td style="padding[^"]*">(?:<b>)?([^<]*)', html_text)


# --- DatasetBrowser --------------------------------------------------------------------------


def test_browser_draws_the_image_and_its_overlay_at_once(data):
    browser = DatasetBrowser(data, alpha=0.4)
    image, mask = data[0]
    assert browser.view().shape == (render.TITLE_HEIGHT + SIZE[0], 2 * SIZE[1] + render.GAP, 3)
    assert decoded(browser).shape == browser.view().shape  # the JPEG shown is the view
    np.testing.assert_array_equal(panel(browser, 0), as_rgb(image))
    expected = overlay(image, mask, data.colors, alpha=0.4).astype(int)
    assert np.abs(panel(browser, 1).astype(int) - expected).max() <= 1
    check_bundle(browser)


def test_update_seconds_times_each_redraw_render_and_encoding_included(data, monkeypatch):
    """What benchmarks/bench_widgets.py and the notebooks read: set by every redraw, and the
    time of the whole redraw (a render made 50 ms slower shows up in it)."""
    browser = DatasetBrowser(data)
    assert isinstance(browser.update_seconds, float)  # the first view, drawn at construction
    draw = browser.render
    monkeypatch.setattr(browser, "render", lambda: (time.sleep(0.05), draw())[1])
    monkeypatch.setattr(render, "encode", lambda view, fmt, encode=render.encode: (time.sleep(0.03),
                                                                                   encode(view, fmt))[1])
    browser.index.value = 1
    assert browser.update_seconds >= 0.08
    np.testing.assert_array_equal(panel(browser, 0), as_rgb(data[1][0]))  # and the view is the new item's


def test_browser_follows_index_alpha_and_class_toggles(data):
    browser = DatasetBrowser(data)
    first_bytes = browser.image.value
    browser.index.value = 2
    image, mask = data[2]
    assert browser.image.value != first_bytes
    np.testing.assert_array_equal(panel(browser, 0), as_rgb(image))

    browser.alpha.value = 0.0
    np.testing.assert_array_equal(panel(browser, 1), as_rgb(image))
    browser.alpha.value = 0.8
    expected = overlay(image, mask, data.colors, alpha=0.8).astype(int)
    assert np.abs(panel(browser, 1).astype(int) - expected).max() <= 1

    before = panel(browser, 1).copy()
    browser.class_toggles[1].value = False  # hide "middle"
    hidden = mask.numpy() == 1
    after = panel(browser, 1)
    np.testing.assert_array_equal(after[hidden], as_rgb(image)[hidden])
    np.testing.assert_array_equal(after[~hidden], before[~hidden])
    assert not np.array_equal(after, before)


def test_browser_switches_splits(stripes):
    train, val = stripes(length=6, image_size=SIZE, seed=1), stripes(length=3, image_size=SIZE, seed=2)
    browser = DatasetBrowser(train, splits={"train": train, "val": val})
    browser.index.value = 5
    browser.split.value = "val"
    assert browser.index.max == 2 and browser.index.value == 2
    np.testing.assert_array_equal(panel(browser, 0), as_rgb(val[2][0]))


def test_browser_scales_wide_images_down(data):
    browser = DatasetBrowser(data, panel_width=32)
    assert browser.view().shape == (render.TITLE_HEIGHT + 16, 2 * 32 + render.GAP, 3)


def test_browser_rejects_bad_inputs(stripes, data):
    four = type("FourStripes", (stripes,), {"classes": ("a", "b", "c", "d"), "colors": ((0, 0, 0),) * 4})
    with pytest.raises(ValueError, match="same classes"):
        DatasetBrowser(data, splits={"train": data, "other": four(length=2, image_size=SIZE)})
    with pytest.raises(ValueError, match="one of the splits"):
        DatasetBrowser(data, splits={"other": stripes(length=2, image_size=SIZE)})
    with pytest.raises(ValueError, match="alpha"):
        DatasetBrowser(data, alpha=1.5)


# --- PredictionExplorer ----------------------------------------------------------------------


def expected_errors(prediction, mask):
    out = np.empty(mask.shape + (3,), dtype=np.uint8)
    out[:] = ERROR_COLORS["right"]
    out[prediction != mask] = ERROR_COLORS["wrong"]
    out[mask == 255] = ERROR_COLORS["ignore"]
    return out


def expected_iou_text(prediction, mask, num_classes):
    valid = mask != 255
    texts = []
    for c in range(num_classes):
        union = (((prediction == c) | (mask == c)) & valid).sum()
        both = ((prediction == c) & (mask == c) & valid).sum()
        texts.append("-" if union == 0 else f"{both / union:.2f}")
    return texts


def test_explorer_shows_errors_and_iou_of_the_chosen_model(data, tiny_unet):
    model = tiny_unet()
    explorer = PredictionExplorer(data, {"unet": model})
    explorer.index.value = 1
    image, mask = data[1]
    prediction, mask = predict(model, image).numpy(), mask.numpy()
    assert explorer.view().shape[1] == 4 * SIZE[1] + 3 * render.GAP
    np.testing.assert_array_equal(panel(explorer, 3), expected_errors(prediction, mask))
    assert table_cells(explorer.iou_table.value)[:3] == expected_iou_text(prediction, mask, 3)
    check_bundle(explorer)


def test_explorer_marks_absent_classes_and_hides_classes(stripes):
    four = type("FourStripes", (stripes,), {"classes": ("left", "middle", "right", "absent"),
                                            "colors": ((255, 0, 0), (0, 255, 0), (0, 0, 255), (9, 9, 9))})
    data = four(length=2, image_size=SIZE)
    explorer = PredictionExplorer(data, {"zeros": ConstantModel(num_classes=4, label=0)})
    image, mask = data[0]
    mask = mask.numpy()
    cells = table_cells(explorer.iou_table.value)
    assert cells[:4] == expected_iou_text(np.zeros_like(mask), mask, 4) and cells[3] == "-"
    explorer.class_toggles[0].value = False  # every pixel is predicted "left": the prediction panel is the plain image
    np.testing.assert_array_equal(panel(explorer, 2), as_rgb(image))


def test_explorer_compares_two_models(data):
    explorer = PredictionExplorer(data, {"zeros": ConstantModel(label=0), "twos": ConstantModel(label=2)})
    single = explorer.view().shape
    explorer.compare.value = "twos"
    mask = data[0][1].numpy()
    assert explorer.view().shape[1] == single[1] + 2 * (SIZE[1] + render.GAP)
    np.testing.assert_array_equal(panel(explorer, 5), expected_errors(np.full_like(mask, 2), mask))
    cells = table_cells(explorer.iou_table.value)
    assert len(cells) == 2 * 4  # two columns, three classes and the mIoU row
    assert [cells[1], cells[3], cells[5]] == expected_iou_text(np.full_like(mask, 2), mask, 3)
    explorer.compare.value = "none"
    assert explorer.view().shape == single


def test_explorer_caches_predictions_made_in_eval_mode_without_grad(data):
    model = ConstantModel()
    model.train()
    explorer = PredictionExplorer(data, {"m": model})
    explorer.alpha.value = 0.2
    explorer.class_toggles[2].value = False
    explorer.index.value = 1
    explorer.index.value = 0
    assert model.calls == [(False, False)] * 2  # items 0 and 1, each once
    assert model.training


def test_explorer_rejects_bad_models(data):
    with pytest.raises(ValueError, match="non-empty dict"):
        PredictionExplorer(data, {})
    with pytest.raises(ValueError, match="other than 'none'"):
        PredictionExplorer(data, {"none": ConstantModel()})
    with pytest.raises(ValueError, match="torch.nn.Module"):
        PredictionExplorer(data, {"m": "not a model"})


# --- ConfusionExplorer -----------------------------------------------------------------------

MATRIX = np.array([[70, 30, 0], [0, 100, 0], [10, 0, 90]])


def test_confusion_lists_top_confusions_from_a_matrix_or_an_array():
    cm = ConfusionMatrix(3)
    for t in range(3):
        for p in range(3):
            cm.update(torch.full((1, 1, int(MATRIX[t, p])), p), torch.full((1, 1, int(MATRIX[t, p])), t))
    for confusion in (cm, MATRIX):
        explorer = ConfusionExplorer(confusion, ["a", "b", "c"])
        assert "70.0% predicted right" in explorer.details.value and "b: 30.0%" in explorer.details.value
    heatmap = explorer.heatmap.value
    assert heatmap[:8] == b"\x89PNG\r\n\x1a\n"
    explorer.true_class.value = "c"
    assert "90.0% predicted right" in explorer.details.value and "a: 10.0%" in explorer.details.value
    assert explorer.heatmap.value is heatmap  # drawn once
    assert explorer.view() is None  # no dataset: no example pixels
    check_bundle(explorer)


def test_confusion_highlights_example_pixels(data):
    predictions = []
    for index in range(len(data)):
        prediction = data[index][1].clone()
        prediction[prediction == 255] = 0
        prediction[10:20][prediction[10:20] == 0] = 1  # some "left" pixels predicted "middle"
        predictions.append(prediction)
    cm = ConfusionMatrix(3)
    for index, prediction in enumerate(predictions):
        cm.update(prediction[None], data[index][1][None])
    explorer = ConfusionExplorer(cm, data.classes, dataset=data, predictions=predictions)
    mask = data[0][1].numpy()
    confused = (mask == 0) & (predictions[0].numpy() == 1)
    view = explorer.view()
    assert view.shape == SIZE + (3,) and "Item #0" in explorer.caption.value
    assert (view[confused] == data.colors[1]).all()
    assert (view[~confused][:, 0] == view[~confused][:, 1]).all()  # the rest is grey
    explorer.true_class.value = "middle"  # never confused: no example
    assert explorer.view() is None and explorer.image.value == b""
    check_bundle(explorer)


def test_confusion_finds_examples_with_a_model(data, tiny_unet):
    model = tiny_unet()
    cm = model_confusion(model, data)
    explorer = ConfusionExplorer(cm, data.classes, dataset=data, model=model, search_items=2)
    assert len(explorer.predicted) <= 2
    assert explorer.view() is None or explorer.view().shape == SIZE + (3,)


def test_confusion_rejects_bad_inputs(stripes, data):
    with pytest.raises(ValueError, match=r"must be \(3, 3\)"):
        ConfusionExplorer(np.zeros((3, 2)), ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"must be \(2, 2\)"):
        ConfusionExplorer(MATRIX, ["a", "b"])
    with pytest.raises(ValueError, match="classes"):
        ConfusionExplorer(MATRIX, ["x", "y", "z"], dataset=data)
    with pytest.raises(ValueError, match="need the dataset"):
        ConfusionExplorer(MATRIX, data.classes, model=ConstantModel())


# -- PhotoPredictor ------------------------------------------------------------------------------

def png_bytes(rgb):
    return render.encode(rgb, "png")


def upload(widget, data, name="street.png"):
    """What JupyterLab sends when a file is chosen: ipywidgets 8's FileUpload value."""
    widget.upload.value = ({"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
                            "last_modified": datetime.datetime.now(datetime.timezone.utc)},)


def test_photo_size_keeps_the_aspect_ratio_at_the_trained_pixel_count():
    assert photo_size(360, 480, (176, 240), 16) == (176, 240)
    assert photo_size(3000, 4000, (176, 240), 16) == (176, 240)  # same shape, any resolution
    height, width = photo_size(1000, 500, (176, 240), 16)  # a portrait photo stays a portrait
    assert height % 16 == width % 16 == 0 and 1.8 <= height / width <= 2.2
    assert abs(height * width - 176 * 240) / (176 * 240) < 0.15
    assert photo_size(10, 10, (32, 32), 16) == (32, 32) and photo_size(1, 1000, (32, 32), 16)[0] == 16


def test_photo_predictor_labels_an_uploaded_photo_at_the_trained_scale(data, tiny_unet):
    model = tiny_unet()
    widget = PhotoPredictor(model, data)
    assert "example" in widget.status.value and widget.view() is not None
    check_bundle(widget)
    before = widget.image.value
    photo = (np.random.default_rng(0).random((90, 150, 3)) * 255).astype(np.uint8)
    upload(widget, png_bytes(photo))
    assert widget.image.value != before and "street.png: 150x90 pixels, labelled at" in widget.status.value
    expected = predict(model, photo, size=photo_size(90, 150, SIZE, model.size_divisor)).numpy()
    np.testing.assert_array_equal(widget.labels, expected)  # labels at the photo's own size
    np.testing.assert_array_equal(widget.photo, photo)
    shown = set(re.findall(r"</span>(\w+) \d+%", widget.legend.value))
    assert shown == {data.classes[c] for c in np.unique(expected) if (expected == c).mean() >= 0.005}
    alpha_before = widget.image.value
    widget.alpha.value = 0.0  # the overlay panel becomes the photo itself
    assert widget.image.value != alpha_before
    view = widget.view()
    np.testing.assert_array_equal(view[render.TITLE_HEIGHT:, :150], view[render.TITLE_HEIGHT:, 150 + render.GAP:])


def test_photo_predictor_shrinks_large_photos_and_reports_unreadable_files(data, tiny_unet):
    widget = PhotoPredictor(tiny_unet(), data, example=np.zeros((20, 30, 3), np.uint8))
    upload(widget, png_bytes(np.full((1200, 1600, 3), 90, np.uint8)), "big.png")
    assert widget.photo.shape == (768, 1024, 3) and widget.labels.shape == (768, 1024)
    view = widget.image.value
    upload(widget, b"not an image", "notes.txt")
    assert "could not read notes.txt as an image: upload a PNG or JPEG" in widget.status.value
    assert widget.image.value == view  # the last photo stays
    with pytest.raises(ValueError, match="torch.nn.Module"):
        PhotoPredictor("model", data)


# -- still pictures (notebooks saved without a widget manager) ------------------------------------

def still_size(widget):
    """(width, height) of the still JPEG in the widget's display bundle, decoded with PIL."""
    with Image.open(io.BytesIO(base64.b64decode(widget._repr_mimebundle_()["image/jpeg"]))) as still:
        return still.size


def title_lines(widget):
    """Each title of the widget's still wrapped to its scaled panel, after checking in the still's
    pixels that every title is drawn and that no ink reaches its cell's right margin (nothing cut)."""
    parts, still = widget.still_parts(), widget.static_view()
    widths = [panel.shape[1] for panel in render.fit_row(parts.panels)]
    lines = [render.wrap(title, width - 2 * render.STILL_MARGIN) for title, width in zip(parts.titles, widths)]
    strip = render.STILL_LINE * max(map(len, lines))  # the titles' strip above the panels
    left = 0
    for title, width, wrapped in zip(parts.titles, widths, lines):
        assert "".join(wrapped).replace(" ", "") == title.replace(" ", ""), f"{title!r} lost characters: {wrapped}"
        assert max(render.text_width(line) for line in wrapped) <= width - 2 * render.STILL_MARGIN
        assert (still[:strip, left: left + width] < 128).any(), f"title {title!r} is not drawn"
        assert (still[:strip, left + width - render.STILL_MARGIN // 2: left + width + render.GAP] == 255).all(), \
            f"title {title!r} runs past its panel"
        left += width + render.GAP
    return lines


def test_wrap_breaks_at_spaces_then_after_separators_then_inside_words():
    assert render.wrap("deeplabv3plus errors (red)", 10_000) == ["deeplabv3plus errors (red)"]
    narrow = render.text_width("deeplabv3plus errors")
    assert render.wrap("deeplabv3plus errors (red)", narrow) == ["deeplabv3plus errors", "(red)"]
    assert render.wrap("a 0.1, bb 0.2, c 0.3", render.text_width("a 0.1, bb 0.2,"), ", ") == ["a 0.1, bb 0.2,", "c 0.3"]
    pieces = render.wrap("deeplabv3plus", render.text_width("deep"))
    assert "".join(pieces) == "deeplabv3plus" and len(pieces) > 2
    assert all(render.text_width(piece) <= render.text_width("deep") for piece in pieces)


def test_every_widgets_still_is_readable_width_with_whole_titles(data, tiny_unet):
    model = tiny_unet()
    cm = model_confusion(model, data)
    explorer = PredictionExplorer(data, {"deeplabv3plus": model, "unet": ConstantModel(label=2)})
    explorer.compare.value = "unet"
    widgets = [DatasetBrowser(data), explorer, PhotoPredictor(model, data),
               ConfusionExplorer(cm, data.classes, dataset=data, model=model), ConfusionExplorer(MATRIX, "abc")]
    for widget in widgets:
        live_width = widget.view().shape[1] if widget.view() is not None else 0
        width, height = still_size(widget)
        assert render.STILL_MIN_WIDTH <= width <= render.STILL_MAX_WIDTH and width > live_width
        assert (height, width) == widget.static_view().shape[:2]
        title_lines(widget)
    assert max(len(lines) for lines in title_lines(explorer)) >= 2  # six panels: the long titles wrap
    check_bundle(explorer)


def test_explorer_still_shows_predictions_opaque_and_the_image_iou(data):
    explorer = PredictionExplorer(data, {"ones": ConstantModel(label=1)}, alpha=0.5)
    image, mask = data[0]
    mask = mask.numpy()
    iou = expected_iou_text(np.ones_like(mask), mask, 3)
    miou = np.mean([float(v) for v in iou if v != "-"])
    note = f"ones on this image: mIoU {miou:.2f}; IoU per class: left {iou[0]}, middle {iou[1]}, right {iou[2]}"
    assert explorer.notes() == [note]
    still = explorer.static_view()
    panels = render.fit_row(explorer.still_parts().panels)
    left = panels[0].shape[1] + panels[1].shape[1] + 2 * render.GAP
    green = (still[:, left: left + panels[2].shape[1]] == data.colors[1]).all(axis=(1, 2))
    assert green.sum() == panels[2].shape[0]  # every pixel of the prediction panel: the class colour itself
    assert not (panel(explorer, 2) == data.colors[1]).all()  # the live view blends it at the chosen alpha
    assert (still[-render.STILL_LINE:] < 128).any()  # the note is written at the bottom
