"""Benchmarks of the walking skeleton, each against a baseline measured in the same run.

    python benchmarks/bench_skeleton.py            # the device fit would pick (cuda, mps, cpu)
    python benchmarks/bench_skeleton.py --device cpu --threads 2

Prints one table: ConfusionMatrix vs torchmetrics on the same large input, synthetic
scene generation (images/s; the baseline is the rate training consumes images at), and
``fit``'s train step (mixed precision and channels_last where the device has them) vs a
plain fp32 loop on the same model.  Ratios > 1 mean seglib is faster.
"""

import argparse
import time

import torch
from common import print_table, timed_pair
from torchmetrics.classification import MulticlassConfusionMatrix

import seglib
from seglib.device import autocast_dtype
from seglib.train.step import make_loss, train_step


def bench_confusion_matrix(device, repeats):
    num_classes, shape = 19, (8, 512, 1024)
    g = torch.Generator().manual_seed(0)
    target = torch.randint(0, num_classes, shape, generator=g)
    target[torch.rand(shape, generator=g) < 0.1] = 255
    pred = torch.randint(0, num_classes, shape, generator=g)
    pred, target = pred.to(device), target.to(device)
    ours = seglib.ConfusionMatrix(num_classes)
    oracle = MulticlassConfusionMatrix(num_classes, ignore_index=255).to(device)
    t_tm, t_ours = timed_pair(lambda: oracle.update(pred, target), lambda: ours.update(pred, target),
                              repeats, device=device)
    assert torch.equal(ours.compute()["matrix"], oracle.compute().cpu() * 1)  # same counts
    mpix = pred.numel() / 1e6
    return ("confusion matrix, 8x512x1024, Mpixel/s", mpix / t_tm, mpix / t_ours, "torchmetrics")


def bench_generation(size, train_rate, repeats):
    """Scenes/s on one core vs the images/s that training at the same size consumes."""
    data = seglib.get_dataset("synthetic", "train", image_size=size)
    count = 200 if size[0] <= 128 else 20
    start = time.perf_counter()
    for _ in range(repeats):
        for i in range(count):
            data.draw(i)  # drawing itself: load() keeps a small split's scenes once drawn
    rate = repeats * count / (time.perf_counter() - start)
    return (f"synthetic scenes {size[0]}x{size[1]}, images/s (1 core)", train_rate, rate,
            f"U-Net-16 train images/s at {size[0]}x{size[1]}")


def bench_train_step(device, repeats, size=(96, 128), batch_size=8):
    data = seglib.get_dataset("synthetic", "train", image_size=size)
    images = torch.stack([data[i][0] for i in range(batch_size)]).to(device)
    masks = torch.stack([data[i][1] for i in range(batch_size)]).to(device)
    loss_fn = make_loss()

    def plain_loop():
        torch.manual_seed(0)
        model = seglib.create_model("unet", num_classes=9).to(device)
        opt = torch.optim.AdamW(model.parameters(), 1e-3)

        def step():
            loss = torch.nn.functional.cross_entropy(model(images), masks, ignore_index=255)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step

    def fit_step():
        torch.manual_seed(0)
        channels_last = device.type == "cuda"
        model = seglib.create_model("unet", num_classes=9).to(
            device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
        opt = torch.optim.AdamW(model.parameters(), 1e-3)
        dtype = autocast_dtype(device)
        scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
        x = images.contiguous(memory_format=torch.channels_last) if channels_last else images
        return lambda: train_step(model, x, masks, opt, loss_fn, scaler, dtype)

    t_plain, t_fit = timed_pair(plain_loop(), fit_step(), repeats, warmup=3, device=device)
    dtype = autocast_dtype(device)
    mode = "fp32" if dtype is None else str(dtype).replace("torch.", "")
    return (f"U-Net-16 train step {size[0]}x{size[1]} b{batch_size}, images/s ({mode})",
            batch_size / t_plain, batch_size / t_fit, "plain fp32 loop")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (the course's laptop budget)")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    device = seglib.select_device(args.device)
    torch.set_num_threads(args.threads)
    print(f"device: {device}, torch {torch.__version__}, {args.threads} CPU threads")

    small = bench_train_step(device, args.repeats)
    large = bench_train_step(device, 3, size=(512, 1024), batch_size=2)
    rows = [bench_confusion_matrix(device, args.repeats), small, large]
    torch.set_num_threads(1)
    rows += [bench_generation((96, 128), small[2], 3), bench_generation((512, 1024), large[2], 3)]

    print_table(rows)


if __name__ == "__main__":
    main()
