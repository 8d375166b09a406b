"""fit / evaluate / predict / checkpoints on a tiny learnable dataset."""

import math

import numpy as np
import pytest
import torch
from helpers import StripesDataset

from seglib import evaluate, fit, load_checkpoint, load_model, predict, save_checkpoint, select_device
from seglib.data import train_transform
from seglib.metrics import image_metrics
from seglib.models import create_model
from seglib.seeding import derived_seed
from seglib.train import FitConfig, device_settings, poly_lr
from seglib.train.loop import plan


def test_a_few_steps_reduce_the_loss_and_history_is_complete(stripes, tiny_unet):
    model = tiny_unet()
    history = fit(model, stripes(64), stripes(8, seed=1), steps=40, eval_every=10, lr=0.02, progress=False)
    assert history["step"] == [10, 20, 30, 40]
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history.last["miou"] > 0.9 and history.last["pixel_acc"] > 0.95
    assert len(history.last["iou"]) == 3
    assert history["lr"][-1] == pytest.approx(poly_lr(39, 40, 0.02))


def test_epochs_and_steps_options(stripes, tiny_unet):
    history = fit(tiny_unet(), stripes(16), epochs=2, batch_size=4, progress=False)
    assert history["step"] == [4, 8] and history["epoch"] == [1.0, 2.0]
    assert "miou" not in history.last  # no validation data given
    with pytest.raises(ValueError, match="exactly one of steps"):
        fit(tiny_unet(), stripes(16), steps=2, epochs=1, progress=False)
    with pytest.raises(ValueError, match="exactly one of steps"):
        fit(tiny_unet(), stripes(16), progress=False)
    with pytest.raises(ValueError, match="fewer than batch_size"):
        fit(tiny_unet(), stripes(3), steps=1, batch_size=4, progress=False)


def test_nan_loss_is_a_clear_error(stripes, tiny_unet):
    def broken_loss(logits, target):
        return logits.mean() * float("nan")

    with pytest.raises(FloatingPointError, match="loss became nan between steps 1 and 2.*learning rate"):
        fit(tiny_unet(), stripes(16), steps=2, batch_size=4, loss=broken_loss, progress=False)


def test_image_size_must_suit_the_model(stripes, tiny_unet):
    with pytest.raises(ValueError, match="multiples of 4"):
        fit(tiny_unet(), stripes(8, image_size=(30, 32)), steps=1, progress=False)
    with pytest.raises(ValueError, match=r"30x32 does not suit UNet.*multiples of 4, e.g. image_size=\(28, 32\)"):
        tiny_unet()(torch.zeros(1, 3, 30, 32))


def test_time_limit_stops_early(stripes, tiny_unet):
    history = fit(tiny_unet(), stripes(16), stripes(4), steps=1000, batch_size=4, max_minutes=1e-6,
                  progress=False)
    assert history.stopped == "time limit" and history["step"] == [1]


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_resume_reproduces_the_uninterrupted_run(stripes, tiny_unet, tmp_path):
    data = stripes(24, transform=train_transform((32, 32)))  # random augmentation must replay too
    options = dict(steps=12, batch_size=4, eval_every=3, lr=0.01, progress=False)
    full = tiny_unet()
    full_history = fit(full, data, stripes(4, seed=1), checkpoint=tmp_path / "full.pt", **options)

    def interrupt(history):
        if history.last["step"] == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(tiny_unet(), data, stripes(4, seed=1), checkpoint=tmp_path / "cut.pt", callbacks=[interrupt], **options)
    assert load_checkpoint(tmp_path / "cut.pt")["step"] == 6
    resumed = tiny_unet(seed=123)  # different init: everything must come from the checkpoint
    history = fit(resumed, data, stripes(4, seed=1), checkpoint=tmp_path / "cut.pt", resume=True, **options)
    assert history["step"] == full_history["step"]
    assert history["train_loss"] == pytest.approx(full_history["train_loss"], rel=1e-6)
    for name, value in weights(full).items():
        torch.testing.assert_close(resumed.state_dict()[name], value, msg=name)
    with pytest.raises(ValueError, match="different settings"):
        fit(tiny_unet(), data, checkpoint=tmp_path / "cut.pt", resume=True, **{**options, "lr": 0.1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.pt", "full.pt"]  # no temporary files left


def test_checkpoint_round_trip_and_errors(tiny_unet, tmp_path):
    model = tiny_unet()
    save_checkpoint(tmp_path / "m.pt", model, step=3)
    loaded = load_model(tmp_path / "m.pt")
    x = torch.randn(2, 3, 16, 16)
    assert not loaded.training
    torch.testing.assert_close(loaded(x), model.eval()(x))
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")


def test_predict_any_size(stripes, tiny_unet):
    model = tiny_unet()
    fit(model, stripes(64), steps=40, lr=0.02, progress=False)
    image, mask = stripes(1, image_size=(50, 70), seed=5).load(0)  # 50x70 is not a multiple of 4
    padded = predict(model, image)
    resized = predict(model, image, size=(32, 32))
    for labels in (padded, resized):
        assert labels.shape == (50, 70) and labels.dtype == torch.int64
        keep = torch.from_numpy(mask) != 255
        assert (labels[keep] == torch.from_numpy(mask).long()[keep]).float().mean() > 0.8  # misaligned: ~0.5
    batch = torch.stack([stripes(2)[i][0] for i in range(2)])
    assert predict(model, batch).shape == (2, 32, 32)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        predict(model, image[..., 0])


def test_evaluate_at_native_resolution(stripes, tiny_unet):
    model = tiny_unet()
    fit(model, stripes(64), steps=30, lr=0.02, progress=False)
    val = stripes(4, seed=1)
    same = evaluate(model, val)
    native = evaluate(model, val, native_resolution=True)
    assert native["matrix"].tolist() == same["matrix"].tolist()  # native size == training size here
    big = stripes(4, image_size=(64, 96), seed=1)
    scored = evaluate(model, big, native_resolution=True, size=(32, 32))
    assert scored["matrix"].sum() == 4 * 63 * 96  # every non-void pixel at 64x96 was scored
    assert scored["miou"] > 0.8


class NativeStripes(StripesDataset):
    """Items at ``image_size``, files (``load_native``) at 2x3 times that size, as a real
    dataset resized for training."""

    def load_native(self, index):
        height, width = self.image_size
        return StripesDataset(self.length, (2 * height, 3 * width), seed=self.seed).load(index)


def test_evaluate_predicts_at_the_training_size_and_scores_at_the_labels_size(stripes, tiny_unet):
    model = tiny_unet()
    fit(model, stripes(64), steps=30, lr=0.02, progress=False)  # trained at 32x32
    seen = []
    model.register_forward_pre_hook(lambda module, args: seen.append(tuple(args[0].shape[-2:])))
    val = NativeStripes(4, image_size=(32, 32), seed=1)
    scored = evaluate(model, val, native_resolution=True)
    assert set(seen) == {(32, 32)}  # the scale it learnt at
    assert scored["matrix"].sum() == 4 * 63 * 96 and scored["miou"] > 0.8  # every non-void pixel at 64x96
    seen.clear()
    full_size = evaluate(model, val, native_resolution=True, size="native")
    assert set(seen) == {(64, 96)} and full_size["matrix"].sum() == 4 * 63 * 96
    seen.clear()
    evaluate(model, val, native_resolution=True, size=(48, 64))
    assert set(seen) == {(48, 64)}
    with pytest.raises(ValueError, match="use 'train', 'native' or"):
        evaluate(model, val, native_resolution=True, size="full")


def test_evaluate_per_image_gives_each_image_its_own_miou(stripes, tiny_unet):
    model = tiny_unet()
    fit(model, stripes(32), steps=5, lr=0.02, progress=False)
    val = NativeStripes(3, image_size=(32, 32), seed=2)
    for native in (True, False):
        scored = evaluate(model, val, native_resolution=native, per_image=True, batch_size=2)
        expected = []
        for index in range(len(val)):
            image, mask = val.load_native(index) if native else val[index]
            pred = predict(model, image, size=(32, 32) if native else None)
            expected.append(image_metrics(pred, torch.as_tensor(mask).long(), val.num_classes)["miou"])
        np.testing.assert_allclose(scored["image_miou"], expected, rtol=1e-6)
    assert "image_miou" not in evaluate(model, val)


def test_cpu_variants_of_the_gpu_paths(stripes, tiny_unet):
    # bf16 autocast and channels_last run on the CPU too: the code paths are the GPU's
    history = fit(tiny_unet(), stripes(16), stripes(4), steps=4, batch_size=4, amp=True, channels_last=True,
                  grad_clip=1.0, progress=False)
    assert math.isfinite(history.last["train_loss"]) and 0 <= history.last["miou"] <= 1


def test_device_selection():
    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type in {"cpu", "cuda", "mps"}
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            select_device("cuda")


def test_poly_schedule():
    assert poly_lr(0, 100, 0.1) == 0.1
    assert poly_lr(100, 100, 0.1) == 0.0
    assert poly_lr(50, 100, 0.1, power=1.0) == pytest.approx(0.05)
    assert poly_lr(0, 100, 0.1, warmup_steps=10) == pytest.approx(0.01)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_mixed_precision_fit(stripes, tiny_unet):
    history = fit(tiny_unet(), stripes(64), stripes(8, seed=1), steps=40, lr=0.02, device="cuda",
                  progress=False)
    assert history.last["miou"] > 0.9


def test_fp16_grad_scaler_step_runs_on_cpu(stripes, tiny_unet):
    # the path GPUs without bf16 take: fp16 autocast, a grad scaler, unscale before clipping
    from seglib.train.step import make_loss, train_step

    model = tiny_unet()
    images, masks = (torch.stack(t) for t in zip(*[stripes(4)[i] for i in range(4)]))
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8)
    before = [p.clone() for p in model.parameters()]
    loss = train_step(model, images, masks, opt, make_loss(), scaler, torch.float16, grad_clip=1.0)
    assert math.isfinite(loss.item()) and scaler.get_scale() > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.slow
def test_torch_compile_option(stripes, tiny_unet):
    history = fit(tiny_unet(), stripes(8), steps=2, batch_size=4, compile=True, progress=False)
    assert math.isfinite(history.last["train_loss"])


@pytest.mark.slow
def test_data_loader_workers_do_not_change_the_run(stripes, tiny_unet):
    data = stripes(16, transform=train_transform((32, 32)))  # random augmentation in the workers
    models = [tiny_unet(), tiny_unet()]
    for model, workers in zip(models, (0, 2)):
        fit(model, data, steps=6, batch_size=4, num_workers=workers, progress=False)
    for name, value in models[0].state_dict().items():
        torch.testing.assert_close(models[1].state_dict()[name], value, msg=name)


def test_fit_accepts_plain_torch_datasets(tiny_unet):
    images = torch.randn(8, 3, 16, 16)
    masks = (images[:, 0] > 0).long()  # (N, H, W): class 1 where the red channel is positive
    plain = torch.utils.data.TensorDataset(images, masks)
    history = fit(tiny_unet(num_classes=2), plain, steps=3, batch_size=4, progress=False)
    assert history["step"] == [2, 3] and math.isfinite(history.last["train_loss"])  # an epoch is 2 steps


def test_batch_augment_runs_on_each_batch_with_replayable_seeds(stripes, tiny_unet, tmp_path):
    seen = []

    def flip(images, masks, seed):  # (N, 3, H, W), (N, H, W) on the device
        seen.append(seed)
        return images.flip(-1), masks.flip(-1)

    options = dict(steps=4, batch_size=4, eval_every=2, seed=7, batch_augment=flip, progress=False)
    fit(tiny_unet(), stripes(16), checkpoint=tmp_path / "run.pt", **options)
    assert seen == [derived_seed(7, step) for step in range(4)]
    seen.clear()
    checkpoint = load_checkpoint(tmp_path / "run.pt")
    torch.save({**checkpoint, "step": 2, "history": checkpoint["history"][:1]}, tmp_path / "half.pt")  # as if cut
    fit(tiny_unet(), stripes(16), checkpoint=tmp_path / "half.pt", resume=True, **options)
    assert seen == [derived_seed(7, step) for step in (2, 3)]  # a resume replays the same seeds


def test_derived_seeds_are_todays_streams():
    # the notebooks' results depend on these numbers: changing the rule moves every result
    assert [derived_seed(7, step) for step in (0, 3)] == [7_000_021, 7_000_024]


def test_a_config_and_keywords_are_the_same_run(stripes, tiny_unet):
    config = FitConfig(steps=4, batch_size=4, lr=0.02, progress=False)
    by_config = fit(tiny_unet(), stripes(16), stripes(4), config)
    by_keywords = fit(tiny_unet(), stripes(16), stripes(4), steps=4, batch_size=4, lr=0.02, progress=False)
    mixed = fit(tiny_unet(), stripes(16), stripes(4), FitConfig(steps=4, lr=0.5), batch_size=4, lr=0.02,
                progress=False)  # keywords override the config's fields
    assert by_config["train_loss"] == by_keywords["train_loss"] == mixed["train_loss"]
    assert config.with_options(lr=0.1).lr == 0.1 and config.lr == 0.02  # a copy: the config is unchanged


def test_an_unknown_option_names_the_valid_ones(stripes, tiny_unet):
    with pytest.raises(TypeError, match=r"unknown option\(s\) learning_rate; valid options: steps, epochs,.* lr,"):
        fit(tiny_unet(), stripes(8), steps=1, learning_rate=0.1)


def test_every_fit_option_is_documented():
    import ast
    import inspect

    from seglib.train import config as config_module

    tree = ast.parse(inspect.getsource(config_module.FitConfig))
    body = tree.body[0].body
    documented = {node.target.id for node, doc in zip(body, body[1:]) if isinstance(node, ast.AnnAssign)
                  and isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)}
    assert documented == set(FitConfig.__dataclass_fields__)  # a docstring under every field


def test_auto_settings_depend_on_the_device_only():
    cpu = device_settings(FitConfig(), torch.device("cpu"))
    assert (cpu.amp_dtype, cpu.channels_last, cpu.fused, cpu.pin_memory) == (None, False, False, False)
    cuda = device_settings(FitConfig(), torch.device("cuda"))  # pure: no GPU is needed to ask
    assert cuda.channels_last and cuda.fused and cuda.pin_memory
    forced = device_settings(FitConfig(amp=True, channels_last=True), torch.device("cpu"))
    assert forced.amp_dtype == torch.bfloat16 and forced.channels_last and not forced.fused


def test_plan_counts_steps_and_evaluations():
    schedule = plan(FitConfig(epochs=3, batch_size=4), num_items=18, processes=2)  # 2 steps of 8 per epoch
    assert (schedule.total_steps, schedule.steps_per_epoch, schedule.eval_every, schedule.global_batch) == (6, 2, 2, 8)
    assert plan(FitConfig(steps=10, batch_size=4, eval_every=3), num_items=100).eval_every == 3


def test_a_checkpoint_stores_the_options_as_plain_values(stripes, tiny_unet, tmp_path):
    def my_loss(logits, target):
        return torch.nn.functional.cross_entropy(logits, target, ignore_index=255)

    fit(tiny_unet(), stripes(8), steps=2, batch_size=4, loss=my_loss, class_weights=torch.ones(3),
        checkpoint=tmp_path / "run.pt", progress=False)
    saved = torch.load(tmp_path / "run.pt", weights_only=True)["fit_config"]  # plain values load safely
    assert saved["loss"] == "my_loss" and saved["class_weights"] == [1.0, 1.0, 1.0]
    assert saved["steps"] == 2 and saved["checkpoint"] == str(tmp_path / "run.pt")
    assert saved["amp_dtype"] is None and saved["channels_last"] is False  # "auto", resolved for the CPU


def test_a_checkpoint_of_the_previous_version_still_resumes(stripes, tiny_unet, tmp_path):
    options = dict(steps=4, batch_size=4, eval_every=2, lr=0.01, progress=False)
    full = tiny_unet()
    fit(full, stripes(16), **options)

    def interrupt(history):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(tiny_unet(), stripes(16), checkpoint=tmp_path / "cut.pt", callbacks=[interrupt], **options)
    old = load_checkpoint(tmp_path / "cut.pt")
    del old["fit_config"]  # what earlier versions wrote: the "run" settings only
    torch.save(old, tmp_path / "cut.pt")
    resumed = tiny_unet(seed=5)
    history = fit(resumed, stripes(16), checkpoint=tmp_path / "cut.pt", resume=True, **options)
    assert history["step"] == [2, 4]
    for name, value in full.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value, msg=name)


def frozen_batchnorm_model():
    """A tiny model whose first BatchNorm is frozen with .eval(), as when fine-tuning a backbone."""
    model = create_model("unet", num_classes=3, base_channels=4, depth=2).train()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    norms[0].eval()
    return model, norms


def test_evaluate_and_predict_keep_a_frozen_batchnorm_frozen(stripes):
    model, norms = frozen_batchnorm_model()
    evaluate(model, stripes(2))
    predict(model, stripes(1)[0][0])
    evaluate(model, stripes(2), native_resolution=True)
    assert not norms[0].training  # still frozen
    assert all(norm.training for norm in norms[1:]) and model.training  # the others still train


def test_a_model_without_parameters_has_a_device():
    from seglib.device import model_device

    assert model_device(torch.nn.ReLU()).type == "cpu"
    assert model_device(torch.nn.BatchNorm2d(3, affine=False)).type == "cpu"  # buffers only


@pytest.mark.parametrize("score", ["evaluate", "boundary_miou", "worst_images"])
def test_scoring_builds_no_autograd_graph(stripes, tiny_unet, score):
    import seglib

    model, grad_enabled = tiny_unet(), []
    model.register_forward_hook(lambda module, inputs, output: grad_enabled.append(torch.is_grad_enabled()))
    getattr(seglib, score)(model, stripes(length=4, image_size=(32, 32)))
    assert grad_enabled and not any(grad_enabled)
