"""``get_dataset(name, split, root=None, **options)``: one entry point for every dataset."""

from .synthetic import SyntheticStreets

DATASETS = {
    "synthetic": SyntheticStreets,
}


def get_dataset(name: str, split: str, root=None, **options):
    """Build dataset ``name`` for ``split``; ``options`` go to the dataset (``image_size``, ...)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(sorted(DATASETS))}")
    cls = DATASETS[name]
    if split not in cls.splits:
        raise ValueError(f"dataset {name!r} has no split {split!r}; valid splits: {', '.join(cls.splits)}")
    return cls(split=split, root=root, **options)


def list_datasets() -> list[str]:
    return sorted(DATASETS)
