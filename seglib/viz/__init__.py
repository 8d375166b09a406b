"""Pictures of masks, predictions and metrics.

``masks`` is plain numpy (colourise, overlay, error maps); ``figures`` draws image grids,
``plots`` metric charts and ``live`` training curves that update during ``fit``.  The drawing
functions import matplotlib when called and return the figure.  The pieces they are built
from are public too, for pictures drawn without matplotlib (``seglib.widgets``): ``blend``
lays already colourised labels over an image, ``confusion_array`` checks a confusion matrix
and ``row_normalized`` turns its counts into per-class shares.
"""

from .figures import (
    legend_handles,
    show_errors,
    show_label_file,
    show_legend,
    show_predictions,
    show_samples,
    show_worst,
)
from .live import LiveCurves
from .masks import ERROR_COLORS, IGNORE_COLOR, as_rgb, blend, colorize, error_map, overlay, to_numpy
from .plots import confusion_array, plot_class_iou, plot_confusion, plot_history, row_normalized

__all__ = [
    "ERROR_COLORS", "IGNORE_COLOR", "LiveCurves", "as_rgb", "blend", "colorize", "confusion_array", "error_map",
    "legend_handles", "overlay", "plot_class_iou", "plot_confusion", "plot_history", "row_normalized",
    "show_errors", "show_label_file", "show_legend", "show_predictions", "show_samples", "show_worst", "to_numpy",
]
