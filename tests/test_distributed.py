"""Data-parallel training on the CPU: two gloo processes must train like one process that
takes their global batch, score like one, and leave one checkpoint that one process resumes."""

import contextlib
import io
import os
import shutil
import socket
from pathlib import Path

import pytest
import torch
from helpers import StripesDataset

from seglib import evaluate, fit, load_checkpoint
from seglib.data import train_transform
from seglib.distributed import close
from seglib.models import create_model
from seglib.train import EpochSampler, make_optimizer


class VoidStripes(StripesDataset):
    """Stripes whose void border is 1 to 7 rows deep, so the processes' valid pixel counts differ."""

    def load(self, index):
        image, mask = super().load(index)
        mask[: 1 + index % 7] = 255
        return image, mask


def plain_unet(seed=0):
    torch.manual_seed(seed)  # no BatchNorm: on gloo its statistics would stay per process
    return create_model("unet", num_classes=3, base_channels=4, depth=3, batch_norm=False)


def train_data():
    return VoidStripes(16, transform=train_transform((32, 32)))  # per-item augmentation seeds too


def val_data():
    return VoidStripes(5, seed=1)  # odd: the processes score 3 and 2 images


OPTIONS = dict(steps=6, eval_every=3, lr=0.01, seed=3)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_on_two_ranks(rank, port, folder):
    """One of the two processes: what torchrun would set, then an ordinary ``fit``."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE="2")
    torch.set_num_threads(1)
    folder = Path(folder)

    def keep_halfway(history):  # rank 0 only: the checkpoint at step 3, to resume later
        if history.last["step"] == 3:
            shutil.copy(folder / "checkpoints" / "run.pt", folder / "halfway.pt")

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        model = plain_unet()
        fit(model, train_data(), val_data(), batch_size=2, checkpoint=folder / "checkpoints" / "run.pt",
            callbacks=[keep_halfway], **OPTIONS)
        metrics = evaluate(model, val_data(), batch_size=2)
    close()
    (folder / f"rank{rank}.log").write_text(printed.getvalue())
    torch.save({"weights": model.state_dict(), "matrix": metrics["matrix"]}, folder / f"rank{rank}.pt")


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two_ranks")
    torch.multiprocessing.spawn(train_on_two_ranks, args=(free_port(), str(folder)), nprocs=2)
    return folder, [torch.load(folder / f"rank{r}.pt") for r in (0, 1)]


@pytest.fixture(scope="module")
def one_rank():
    model = plain_unet()
    history = fit(model, train_data(), val_data(), batch_size=4, progress=False, **OPTIONS)
    return model, history


@pytest.mark.slow  # the two_ranks fixture: two processes, about 7 s
def test_two_processes_train_like_one_with_the_global_batch(two_ranks, one_rank):
    folder, ranks = two_ranks
    model, history = one_rank
    for name, value in model.state_dict().items():
        assert torch.equal(ranks[0]["weights"][name], ranks[1]["weights"][name]), name
        torch.testing.assert_close(ranks[0]["weights"][name], value, rtol=1e-4, atol=1e-5, msg=name)
    saved = load_checkpoint(folder / "checkpoints" / "run.pt")["history"]
    assert [r["train_loss"] for r in saved] == pytest.approx(history["train_loss"], rel=1e-4)


@pytest.mark.slow  # the two_ranks fixture: two processes, about 7 s
def test_metrics_are_summed_over_the_processes(two_ranks):
    folder, ranks = two_ranks
    model = plain_unet()
    model.load_state_dict(ranks[0]["weights"])
    alone = evaluate(model, val_data())
    assert ranks[0]["matrix"].tolist() == ranks[1]["matrix"].tolist() == alone["matrix"].tolist()
    assert alone["matrix"].sum() == sum((val_data()[i][1] != 255).sum() for i in range(5))  # every image
    last = load_checkpoint(folder / "checkpoints" / "run.pt")["history"][-1]
    assert last["miou"] == pytest.approx(alone["miou"])


@pytest.mark.slow  # the two_ranks fixture: two processes, about 7 s
def test_only_rank_zero_prints_and_saves(two_ranks):
    folder, _ = two_ranks
    assert os.listdir(folder / "checkpoints") == ["run.pt"]  # one file, no temporary ones
    assert "train" in (folder / "rank0.log").read_text()  # the progress bar
    assert (folder / "rank1.log").read_text() == ""
    ckpt = load_checkpoint(folder / "checkpoints" / "run.pt")
    assert not any(key.startswith("module.") for key in ckpt["model"])
    assert ckpt["run"]["global_batch"] == 4 and ckpt["step"] == 6


@pytest.mark.slow  # the two_ranks fixture: two processes, about 7 s
def test_a_two_process_checkpoint_resumes_in_one_process(two_ranks, tmp_path):
    folder, ranks = two_ranks
    shutil.copy(folder / "halfway.pt", tmp_path / "halfway.pt")
    assert load_checkpoint(tmp_path / "halfway.pt")["step"] == 3
    with pytest.raises(ValueError, match="global batch of 4 .* use batch_size=4"):
        fit(plain_unet(), train_data(), batch_size=2, checkpoint=tmp_path / "halfway.pt", resume=True,
            progress=False, **OPTIONS)
    model = plain_unet(seed=123)  # everything must come from the checkpoint
    history = fit(model, train_data(), val_data(), batch_size=4, checkpoint=tmp_path / "halfway.pt", resume=True,
                  progress=False, **OPTIONS)
    assert history["step"] == [3, 6]
    for name, value in ranks[0]["weights"].items():
        torch.testing.assert_close(model.state_dict()[name], value, rtol=1e-4, atol=1e-5, msg=name)


def test_each_process_takes_its_slice_of_every_global_batch():
    def batches(sampler, size):
        items = list(sampler)
        assert len(items) == len(sampler)
        return [items[i:i + size] for i in range(0, len(items), size)]

    one = EpochSampler(23, seed=5, batch_size=6)
    ranks = [EpochSampler(23, seed=5, batch_size=3, rank=r, world_size=2) for r in (0, 1)]
    for sampler in (one, *ranks):
        sampler.epoch, sampler.start = 2, 6  # resume at the second step of epoch 2
    assert [a + b for a, b in zip(*(batches(s, 3) for s in ranks))] == batches(one, 6)
    assert len(batches(one, 6)) == 23 // 6 - 1  # the incomplete last global batch is dropped


def test_fused_optimizers_need_cuda():
    with pytest.raises(ValueError, match="fused=True needs the model on a CUDA GPU"):
        make_optimizer(plain_unet(), "adamw", 1e-3, 0.0, 0.9, fused=True)
