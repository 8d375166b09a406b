"""seglib: the library behind the seglib semantic-segmentation course.

``import seglib`` needs only torch, torchvision, numpy and opencv: plotting
(``seglib.viz``) and notebook helpers (``seglib.notebook``) import matplotlib and
Jupyter packages when they are used, so the library also runs on plain training machines.
"""

from .boundary import BoundaryIoU
from .checkpoint import load_checkpoint, load_model, save_checkpoint
from .costs import count_flops, count_macs, measure_throughput, model_costs
from .data import get_dataset, list_datasets, median_frequency_weights
from .device import select_device
from .inference import boundary_miou, evaluate, predict, worst_images
from .losses import DiceLoss, FocalLoss
from .metrics import ConfusionMatrix
from .models import count_parameters, create_model, list_models
from .seeding import seed_everything
from .train import FitConfig, History, fit

__version__ = "0.1.0"

__all__ = [
    "BoundaryIoU", "ConfusionMatrix", "DiceLoss", "FitConfig", "FocalLoss", "History", "boundary_miou", "count_flops",
    "count_macs", "count_parameters", "create_model", "evaluate", "fit", "get_dataset", "list_datasets", "list_models",
    "load_checkpoint", "load_model", "measure_throughput", "median_frequency_weights", "model_costs",
    "predict", "save_checkpoint", "seed_everything", "select_device", "worst_images",
]
