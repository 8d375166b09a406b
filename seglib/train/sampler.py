"""The data order: reproducible from ``(seed, epoch)``, resumable at any step, shardable."""

import torch

from ..seeding import derived_seed


class EpochSampler(torch.utils.data.Sampler):
    """Shuffles ``range(length)`` anew each epoch from ``(seed, epoch)`` alone, and pairs each
    index with a seed for its random augmentation (``SegmentationDataset`` accepts
    ``dataset[(index, seed)]``), so that any step can be replayed exactly (resume) whatever
    the number of workers or processes.  ``with_seeds=False`` yields plain indices, for
    datasets of other kinds.

    Several processes: the order is cut into global batches of ``batch_size * world_size``
    items and process ``rank`` takes slice ``rank`` (``batch_size`` items) of each, so
    together they see exactly the batches of one process with ``batch_size * world_size``.
    An incomplete last global batch is dropped.  ``start`` skips that many items of the
    order (a whole number of global batches when resuming)."""

    def __init__(self, length, seed=0, with_seeds=True, batch_size=1, rank=0, world_size=1):
        self.length, self.seed, self.with_seeds, self.epoch, self.start = length, seed, with_seeds, 0, 0
        self.batch_size, self.rank, self.world_size = batch_size, rank, world_size

    def __len__(self):
        global_batch = self.batch_size * self.world_size
        return (self.length - self.start) // global_batch * self.batch_size

    def __iter__(self):
        g = torch.Generator().manual_seed(derived_seed(self.seed, self.epoch))
        order = torch.randperm(self.length, generator=g)
        item_seeds = torch.randint(2**62, (self.length,), generator=g)
        global_batch = self.batch_size * self.world_size
        for first in range(self.start, self.length - global_batch + 1, global_batch):
            mine = first + self.rank * self.batch_size  # this process's slice of the global batch
            for i in range(mine, mine + self.batch_size):
                yield (int(order[i]), int(item_seeds[i])) if self.with_seeds else int(order[i])
