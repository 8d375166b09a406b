"""The training cache: a recipe trained once is loaded the next time, exactly; any change to
the recipe (or to seglib) trains again; runs it cannot name exactly are never cached."""

import random

import numpy as np
import pytest
import torch

from seglib.train import cache as training_cache
from seglib.train import recipe

PARAMS = {"steps": 3, "max_minutes": None, "batch_size": 4, "lr": 3e-3, "device": "cpu", "seed": 0}
TINY = {"base_channels": 4, "depth": 3}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(training_cache.ENVIRONMENT_VARIABLE, str(tmp_path))
    return tmp_path


@pytest.fixture
def data(stripes):
    return stripes(length=8, image_size=(32, 32))


@pytest.fixture
def count_fits(monkeypatch):
    calls = []
    real_fit = recipe.fit

    def counting_fit(*args, **kwargs):
        calls.append(1)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(recipe, "fit", counting_fit)
    return calls


def train(data, params=PARAMS, **options):
    return recipe.train_model("unet", data, data, params, **{**TINY, **options})


def test_a_second_run_of_the_same_recipe_loads_the_first_exactly(folder, data, count_fits):
    model, history = train(data)
    after_training = (torch.rand(2), np.random.rand(), random.random())
    seen = []
    again, history_again = recipe.train_model("unet", data, data, PARAMS, callbacks=[seen.append], **TINY)
    after_loading = (torch.rand(2), np.random.rand(), random.random())
    assert len(count_fits) == 1 and len(list(folder.glob("*.pt"))) == 1
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, again.state_dict()[name]), name
    assert history_again.records == history.records and history_again.last["step"] == 3
    assert again.training  # as fit leaves a model
    assert seen == [history_again]  # the callbacks see the cached history once
    assert torch.equal(after_training[0], after_loading[0]) and after_training[1:] == after_loading[1:]


@pytest.mark.parametrize("change", [
    {"params": {**PARAMS, "seed": 1}}, {"params": {**PARAMS, "steps": 4}}, {"params": {**PARAMS, "lr": 1e-3}},
    {"base_channels": 8}, {"fit_options": {"class_weights": [1.0, 2.0, 1.0]}}, {"evaluations": 2},
    {"curve_items": 4}, {"data": "other"}])
def test_any_change_to_the_recipe_trains_again(folder, data, count_fits, stripes, change):
    train(data)
    change = dict(change)
    other = stripes(length=8, image_size=(32, 32), seed=1) if change.pop("data", None) else data
    train(other, **change)
    assert len(count_fits) == 2 and len(list(folder.glob("*.pt"))) == 2


def test_a_library_edit_or_another_thread_count_trains_again(folder, data, count_fits, monkeypatch):
    train(data)
    with monkeypatch.context() as patch:
        patch.setattr(training_cache, "source_hash", lambda: "an edited seglib")
        train(data)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(threads + 1)
        train(data)
    finally:
        torch.set_num_threads(threads)
    assert len(count_fits) == 3


@pytest.mark.parametrize("options", [{"params": {**PARAMS, "max_minutes": 5.0}},
                                     {"fit_options": {"loss": lambda logits, target: logits.mean()}},
                                     {"cache": False}])
def test_runs_the_cache_cannot_name_or_time_limited_runs_are_not_cached(folder, data, count_fits, options):
    train(data, **options)
    train(data, **options)
    assert len(count_fits) == 2 and not list(folder.glob("*.pt"))


def test_off_disables_the_cache_and_the_default_is_in_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(training_cache.ENVIRONMENT_VARIABLE, "off")
    assert training_cache.default_cache_folder() is None
    monkeypatch.delenv(training_cache.ENVIRONMENT_VARIABLE)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert training_cache.default_cache_folder() == tmp_path / ".cache" / "seglib" / "training"


def test_an_unreadable_entry_is_trained_again_and_replaced(folder, data, count_fits):
    train(data)
    (entry,) = folder.glob("*.pt")
    entry.write_bytes(b"half a file")
    model, history = train(data)
    assert len(count_fits) == 2 and history.last["step"] == 3
    assert torch.load(entry, weights_only=True)["history"] == history.records


def test_a_fingerprint_names_objects_by_their_state_and_refuses_what_it_cannot_name():
    class_weights = torch.tensor([1.0, 2.0])
    assert training_cache.fingerprint(class_weights) == training_cache.fingerprint(class_weights.clone())
    assert training_cache.fingerprint(class_weights) != training_cache.fingerprint(torch.tensor([1.0, 3.0]))
    from seglib.batch_augment import BatchAugment
    assert training_cache.fingerprint(BatchAugment()) == training_cache.fingerprint(BatchAugment())
    with pytest.raises(training_cache.Uncacheable):
        training_cache.fingerprint(lambda x: x)
