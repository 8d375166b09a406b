"""The run parameters' checks (every notebook runs them right after its parameters cell), the
models' size rule they use, and the training recipe."""

import pytest
import torch

from seglib.models import create_model, list_models, size_divisor
from seglib.params import check_params, parse_size

GOOD = dict(dataset="synthetic", data_root=None, image_size=(96, 128), batch_size=8, steps=10,
            max_minutes=None, lr=1e-3, device="auto", seed=0)


def test_good_parameters_pass_and_sizes_are_normalised():
    assert check_params(**GOOD)["image_size"] == (96, 128)
    for text in ("(64, 96)", "[64, 96]", "64x96", [64, 96]):
        assert check_params(**{**GOOD, "image_size": text}, size_divisor=16)["image_size"] == (64, 96)
    assert parse_size("(1, 2, 3)") == "(1, 2, 3)"


@pytest.mark.parametrize("name,value,message", [
    ("dataset", "cityscape", "dataset='cityscape' is unknown; valid names: camseq, camvid"),
    ("image_size", (96,), "image_size must be (height, width)"),
    ("image_size", (90, 128), "image size 90x128 does not suit these models: height and width must be multiples of 16, "
                              "e.g. image_size=(80, 128)"),
    ("batch_size", 0, "batch_size must be a positive integer"),
    ("steps", 2.5, "steps must be a positive integer"),
    ("max_minutes", -1, "max_minutes must be None or a positive number"),
    ("lr", "fast", "lr must be a positive number"),
    ("device", "gpu", "device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"),
    ("seed", None, "seed must be an integer"),
    ("data_root", 3, "data_root must be None or a folder path"),
])
def test_each_bad_value_is_named(name, value, message):
    with pytest.raises(ValueError, match="bad parameter") as error:
        check_params(**{**GOOD, name: value}, size_divisor=16)
    assert message in str(error.value)


def test_all_problems_are_listed_at_once():
    with pytest.raises(ValueError) as error:
        check_params(**{**GOOD, "steps": 0, "lr": -1, "model": "segnet"})
    text = str(error.value)
    assert "steps" in text and "lr" in text
    assert "model='segnet' is unknown; valid names: deeplabv3, deeplabv3plus" in text


def test_train_model_follows_the_notebook_parameters(stripes):
    import numpy as np

    from seglib.notebook import iou_table, train_model
    params = check_params(**{**GOOD, "image_size": (32, 32), "batch_size": 4, "steps": 4, "seed": 3})
    data = stripes(length=8, image_size=(32, 32))
    model, history = train_model("unet", data, data, params, base_channels=4, depth=3)
    again, history_again = train_model("unet", data, data, params, base_channels=4, depth=3, cache=False)
    assert model.config["base_channels"] == 4 and history.last["step"] == 4 and len(history) == 4  # 5 evaluations max
    assert history.last["miou"] == history_again.last["miou"]  # the same seed, the same run
    table = iou_table({"a": history.last, "b": {**history.last, "iou": np.array([np.nan, 0.5, 1.0])}}, data.classes)
    lines = table.splitlines()
    assert lines[0].split() == ["a", "b"] and lines[1].split()[0] == "left"
    assert lines[1].split()[-1] == "-" and lines[-2].split()[0] == "mIoU" and len(lines) == 1 + 3 + 2
    seven = iou_table({f"run {i}": history.last for i in range(7)}, data.classes, columns=3)
    blocks = seven.split("\n\n")  # 3 + 3 + 1 runs, one table under the other
    assert [block.splitlines()[0].split()[1::2] for block in blocks] == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
    assert max(map(len, seven.splitlines())) == len(blocks[0].splitlines()[0])


def test_the_image_size_must_suit_the_model_named():
    assert check_params(**{**GOOD, "model": "fcn8s", "image_size": (64, 96)})["model"] == "fcn8s"
    with pytest.raises(ValueError, match=r"80x128 does not suit fcn8s: .* of 32, e.g. image_size=\(64, 128\)"):
        check_params(**{**GOOD, "model": "fcn8s", "image_size": (80, 128)})
    assert check_params(**{**GOOD, "model": "unet", "image_size": (80, 128)})["image_size"] == (80, 128)


def test_show_source_prints_the_running_code_as_one_python_block():
    import inspect

    from seglib.models.pspnet import PSPHead, PSPNet
    from seglib.notebook import show_source

    shown = show_source(PSPHead, PSPNet).data
    assert shown == f"```python\n{inspect.getsource(PSPHead)}\n\n{inspect.getsource(PSPNet)}```"


def test_the_image_size_must_suit_every_model_a_notebook_trains_with_its_options():
    # unet needs multiples of 16, fcn8s of 32: together 32, read from the models, not typed in
    assert check_params(**{**GOOD, "models": ["unet"], "image_size": (80, 128)})["image_size"] == (80, 128)
    with pytest.raises(ValueError, match=r"80x128 does not suit unet and fcn8s: .* of 32"):
        check_params(**{**GOOD, "models": ["unet", "fcn8s"], "image_size": (80, 128)})
    # unet at depth 3 needs multiples of 4 only; at depth 5, 16
    shallow = {"unet": {"depth": 3}}
    assert check_params(**{**GOOD, "models": ["unet"], "model_options": shallow, "image_size": (36, 60)})
    with pytest.raises(ValueError, match="models: 'segnet' is unknown; valid names: deeplabv3"):
        check_params(**{**GOOD, "models": ["unet", "segnet"]})


@pytest.mark.parametrize("name, options", [(name, {}) for name in list_models()] + [
    ("unet", {"depth": 3}), ("unet", {"backbone": "vgg16"}), ("inception_unet", {"filters": (4, 4, 8)}),
    ("deeplabv3", {"output_stride": 8}), ("deeplabv3plus", {"backbone": "resnet50"}),
    ("pspnet", {"output_stride": 16})])
def test_size_divisor_is_the_built_models_own(name, options):
    with torch.device("meta"):  # no memory, no init: only the attribute is read
        model = create_model(name, num_classes=3, **options)
    assert size_divisor(name, **options) == model.size_divisor


def test_the_recipe_attaches_only_the_callbacks_it_is_given(stripes, monkeypatch):
    from seglib.train import recipe

    seen = {}

    def spy(model, train, val, config):
        seen["callbacks"] = config.callbacks
        return recipe.History()

    monkeypatch.setattr(recipe, "fit", spy)
    params = check_params(**{**GOOD, "image_size": (32, 32), "batch_size": 4, "steps": 4})
    recipe.train_model("unet", stripes(8), None, params, base_channels=4, depth=3, cache=False)  # not stored
    assert seen["callbacks"] == []  # the command line's runs draw nothing


def test_model_options_are_checked_by_model_name_and_reach_the_model(stripes):
    from seglib.train.recipe import train_model

    text = '{"unet": {"base_channels": 4, "depth": 3}}'  # what papermill's -p passes: text
    params = check_params(**{**GOOD, "image_size": (32, 32), "batch_size": 4, "steps": 1}, model_options=text)
    assert params["model_options"] == {"unet": {"base_channels": 4, "depth": 3}}
    assert check_params(**GOOD)["model_options"] == {}
    data = stripes(length=4, image_size=(32, 32))
    model, _ = train_model("unet", data, None, params)
    assert model.config["base_channels"] == 4 and model.config["depth"] == 3
    wider, _ = train_model("unet", data, None, params, base_channels=8)  # an explicit option wins
    assert wider.config["base_channels"] == 8 and wider.config["depth"] == 3
    fcn, _ = train_model("fcn8s", stripes(length=4, image_size=(32, 32)), None,
                         {**params, "model_options": {"fcn8s": {"learn_upsampling": False}}})
    assert fcn.config["learn_upsampling"] is False


@pytest.mark.parametrize("options,message", [
    ({"unett": {}}, "model_options has options for 'unett', which is not a model; valid names: deeplabv3"),
    ({"unet": {"backbne": "vgg16"}}, "model_options['unet']: unet does not take 'backbne'; it takes in_channels, "
                                     "base_channels, depth, batch_norm, backbone, pretrained"),
    ({"fcn8s": {"bakcbone": "vgg16"}}, "fcn8s does not take 'bakcbone'; it takes in_channels, stride, backbone"),
    ({"unet": 3}, "model_options['unet'] must be a dict of create_model options"),
    ("{'unet': {}", "model_options must be a dict keyed by model name"),
    ({"unet": {"num_classes": 3}}, "num_classes comes from the dataset"),
])
def test_a_bad_model_option_is_named_with_what_the_model_takes(options, message):
    with pytest.raises(ValueError, match="bad parameter") as error:
        check_params(**GOOD, model_options=options)
    assert message in str(error.value)


@pytest.mark.parametrize("options", [
    {"unet": {"skips": False}},
    {"fcn8s": {"learn_final_upsampling": False}},
    {"fcn32s": {"learn_final_upsampling": False, "learn_upsampling": True}},  # through FCN32s's **options
    {"inception_unet": {"skip_mode": "concat"}},
])
def test_the_ablation_options_are_model_options(options):
    assert check_params(**GOOD, model_options=options)["model_options"] == options


@pytest.mark.parametrize("seeds, expected", [(None, (0,)), ([0, 1], (0, 1)), ("[0, 1, 2]", (0, 1, 2)), ("3,4", (3, 4)),
                                             ((5,), (5,))])
def test_seeds_are_parsed_from_papermill_text(seeds, expected):
    assert check_params(**GOOD, seeds=seeds)["seeds"] == expected


@pytest.mark.parametrize("seeds", [[], [0, 0], "zero", [0.5], 3])
def test_bad_seeds_are_named(seeds):
    with pytest.raises(ValueError, match="seeds must be a non-empty list of different integers"):
        check_params(**GOOD, seeds=seeds)
