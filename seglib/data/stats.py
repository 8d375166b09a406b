"""Class statistics of a dataset split, and median-frequency class weights.

Median-frequency balancing (Eigen & Fergus 2015, as SegNet used it): the frequency of
class c is its pixel count divided by the total pixels of the images in which c
appears; the weight of c is ``median(freq) / freq[c]``.  Rare, thin classes get
large weights; a class that never appears gets weight 0.
"""

import numpy as np

from .base import SegmentationDataset


def class_pixel_counts(dataset: SegmentationDataset, max_items: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(pixels, image_pixels)``: per class, its pixel count, and the total pixel
    count of the images in which it appears (void pixels excluded from neither).  Real
    datasets count their label files at full size (``load_label``)."""
    n = dataset.num_classes
    pixels = np.zeros(n, dtype=np.int64)
    image_pixels = np.zeros(n, dtype=np.int64)
    count = len(dataset) if max_items is None else min(max_items, len(dataset))
    load_label = getattr(dataset, "load_label", lambda index: dataset.load(index)[1])
    for index in range(count):
        mask = load_label(index)
        hist = np.bincount(mask.ravel(), minlength=256)[:n]
        pixels += hist
        image_pixels[hist > 0] += mask.size
    return pixels, image_pixels


def median_frequency_weights(dataset: SegmentationDataset, max_items: int | None = None) -> np.ndarray:
    """Median-frequency class weights, float32 array of length ``num_classes``."""
    return median_frequency(*class_pixel_counts(dataset, max_items))


def median_frequency(pixels: np.ndarray, image_pixels: np.ndarray) -> np.ndarray:
    """Median-frequency weights from per-class counts (``class_pixel_counts``): float32,
    ``median(freq) / freq[c]`` over the classes that appear, 0 for the others."""
    pixels, image_pixels = np.asarray(pixels), np.asarray(image_pixels)
    present = pixels > 0
    freq = np.zeros(len(pixels))
    freq[present] = pixels[present] / image_pixels[present]
    weights = np.zeros(len(pixels), dtype=np.float32)
    weights[present] = np.median(freq[present]) / freq[present]
    return weights
