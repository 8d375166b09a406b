"""Pictures of masks, predictions and metrics.

``masks`` is plain numpy (colourise, overlay, error maps); ``figures`` draws image grids,
``plots`` metric charts and ``live`` training curves that update during ``fit``.  The drawing
functions import matplotlib when called and return the figure.
"""

from .figures import (legend_handles, show_errors, show_label_file, show_legend, show_predictions,
                      show_samples)
from .live import LiveCurves
from .masks import ERROR_COLORS, IGNORE_COLOR, as_rgb, colorize, error_map, overlay, pixel_accuracy, to_numpy
from .plots import plot_class_iou, plot_confusion, plot_history

__all__ = [
    "ERROR_COLORS", "IGNORE_COLOR", "LiveCurves", "as_rgb", "colorize", "error_map", "legend_handles",
    "overlay", "pixel_accuracy", "plot_class_iou", "plot_confusion", "plot_history", "show_errors",
    "show_label_file", "show_legend", "show_predictions", "show_samples", "to_numpy",
]
