"""The widgets' text as small HTML snippets (class legend, IoU table, top confusions) and as
plain lines for their still pictures."""

import html
import math

import torch


def hex_color(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb))


def swatch(rgb) -> str:
    return (f'<span style="display:inline-block;width:12px;height:12px;margin-right:4px;'
            f'vertical-align:middle;border:1px solid #888;background:{hex_color(rgb)}"></span>')


def legend_html(classes, colors, ignore_color=(0, 0, 0)) -> str:
    """One swatch and name per class, plus the colour of ignored (void) pixels."""
    items = [f'<span style="margin-right:10px">{swatch(c)}{html.escape(name)}</span>'
             for name, c in zip(classes, colors)]
    items.append(f'<span style="margin-right:10px">{swatch(ignore_color)}void (ignored)</span>')
    return f'<div style="line-height:1.8">{"".join(items)}</div>'


def score_text(value) -> str:
    """``0.8312`` -> ``'0.83'``; NaN or None (class absent from labels and prediction) -> ``'-'``."""
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def image_miou(iou) -> float:
    """The mean of the per-class IoU over its non-NaN classes (NaN when every class is)."""
    return float(torch.tensor(iou, dtype=torch.float64).nanmean())


def iou_text(model_name, classes, iou) -> str:
    """A model's scores on one image as a line of text: its mIoU, then the IoU per class."""
    scores = ", ".join(f"{name} {score_text(value)}" for name, value in zip(classes, iou))
    return f"{model_name} on this image: mIoU {score_text(image_miou(iou))}; IoU per class: {scores}"


def iou_table_html(classes, colors, ious: dict) -> str:
    """A row per class and a column per model (``ious`` maps a model name to per-class IoU),
    with the mean over the non-NaN classes (the image's mIoU) as the last row."""
    cell = 'style="padding:1px 8px;text-align:right"'
    head = "".join(f"<th {cell}>{html.escape(name)}</th>" for name in ious)
    rows = []
    for c, (name, color) in enumerate(zip(classes, colors)):
        scores = "".join(f"<td {cell}>{score_text(iou[c])}</td>" for iou in ious.values())
        rows.append(f"<tr><td>{swatch(color)}{html.escape(name)}</td>{scores}</tr>")
    means = "".join(f"<td {cell}><b>{score_text(image_miou(iou))}</b></td>" for iou in ious.values())
    rows.append(f"<tr><td><b>mIoU (this image)</b></td>{means}</tr>")
    return f"<table><tr><th>IoU per class</th>{head}</tr>{''.join(rows)}</table>"


def confusions_html(true_name, row_names, row_shares, correct_share, colors_by_name) -> str:
    """What pixels of ``true_name`` were predicted as: the share kept, then the top confusions."""
    if math.isnan(correct_share):
        return f"<p>No pixel of <b>{html.escape(true_name)}</b> in the labels.</p>"
    items = "".join(f"<li>{swatch(colors_by_name[name])}{html.escape(name)}: {share:.1%}</li>"
                    for name, share in zip(row_names, row_shares))
    return (f"<p>Pixels of <b>{html.escape(true_name)}</b>: {correct_share:.1%} predicted right; "
            f"most often confused with:</p><ol>{items or '<li>nothing</li>'}</ol>")


def confusions_text(true_name, row_names, row_shares, correct_share) -> str:
    """``confusions_html`` as one line of plain text."""
    if math.isnan(correct_share):
        return f"No pixel of {true_name} in the labels."
    top = ", ".join(f"{name} {share:.1%}" for name, share in zip(row_names, row_shares)) or "nothing"
    return f"Pixels of {true_name}: {correct_share:.1%} predicted right; most often confused with: {top}"
