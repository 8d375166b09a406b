"""Datasets, label maps and paired transforms."""

from .base import IGNORE_INDEX, IMAGENET_MEAN, IMAGENET_STD, SegmentationDataset, denormalize, to_model_input
from .folder import FileDataset
from .paths import DatasetNotFoundError, data_home, environment_root
from .registry import DATASETS, get_dataset, list_datasets, missing_dataset, real_datasets
from .stats import class_pixel_counts, median_frequency, median_frequency_weights
from .transforms import RandomScale, train_transform

__all__ = [
    "IGNORE_INDEX", "IMAGENET_MEAN", "IMAGENET_STD", "SegmentationDataset", "denormalize", "to_model_input",
    "FileDataset", "DatasetNotFoundError", "data_home", "environment_root", "DATASETS", "get_dataset",
    "list_datasets", "missing_dataset", "real_datasets", "class_pixel_counts", "median_frequency",
    "median_frequency_weights", "RandomScale", "train_transform",
]
