"""Interactive widgets for notebooks (ipywidgets, imported only with ``seglib.widgets``).

* ``DatasetBrowser``: a dataset's images with their labels over them.
* ``PredictionExplorer``: predictions and error maps of one or two models, with per-image IoU.
* ``ConfusionExplorer``: the confusion matrix, a class's top confusions and where they happen.
* ``PhotoPredictor``: upload a photo of your own and see the model's labels over it.

Every widget draws its first view when built, updates in milliseconds (numpy / OpenCV
pictures, cached per item; see ``render``) and also displays as a still JPEG where no
widget manager runs (papermill, nbval, GitHub): ``render.still`` draws it at least
``render.STILL_MIN_WIDTH`` pixels wide, the labels opaque, the titles wrapped to fit, with
the class legend and the scores (an image's IoU per class, say) below.
"""

from .browser import DatasetBrowser
from .confusion import ConfusionExplorer
from .photo import PhotoPredictor
from .predictions import PredictionExplorer

__all__ = ["ConfusionExplorer", "DatasetBrowser", "PhotoPredictor", "PredictionExplorer"]
