"""What ``fit`` returns: one record per evaluation."""


class History:
    """One record (dict) per evaluation: step, epoch, lr, train_loss, seconds, the val
    metrics (``miou``, ``pixel_acc``, ...) and per-class ``iou``.  ``history["miou"]``
    lists one key over the records."""

    def __init__(self, records: list[dict] | None = None):
        self.records = list(records or [])
        self.stopped = None  # "time limit" when max_minutes ended the run

    def __getitem__(self, key):
        return [r.get(key) for r in self.records]

    def __len__(self):
        return len(self.records)

    @property
    def last(self) -> dict:
        return self.records[-1] if self.records else {}

    def __repr__(self):
        last = self.last
        facts = ", ".join(f"{k}={last[k]:.4g}" for k in ("step", "train_loss", "miou", "pixel_acc") if k in last)
        return f"History({len(self)} records; last: {facts})"
