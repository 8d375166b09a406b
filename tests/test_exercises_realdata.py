"""Notebook 07's exercise checks: they accept the notebook's solutions, name the known mistakes
of wrong ones, and their references agree with seglib's own inference and CamVid's file names."""

import pytest
import torch
import torch.nn.functional as F
from exercise_helpers import diagnosis, solution

from seglib import predict
from seglib.data.camvid import frame_of
from seglib.exercises import check_frame_gaps, check_predict_at_training_size
from seglib.exercises.realdata import RampModel, ramp_image, reference_frame_gaps, reference_prediction

NOTEBOOK = "07_camvid.ipynb"


@pytest.mark.parametrize(("name", "check"), [("frame_gaps", check_frame_gaps),
                                             ("predict_at_training_size", check_predict_at_training_size)])
def test_the_notebooks_solution_passes(name, check, capsys):
    check(solution(NOTEBOOK, name))
    assert capsys.readouterr().out.splitlines()[-1].startswith("all ")


def test_the_reference_prediction_is_seglibs_predict_on_smooth_images():
    model = RampModel(0).eval()
    image = ramp_image(45, 60, 1)
    ours = reference_prediction(model, image, (16, 24))
    theirs = predict(model, image, size=(16, 24))  # seglib's, with anti-aliasing: equal on a ramp
    assert (ours == theirs).float().mean() > 0.995


def test_frame_of_reads_every_drive_s_names():
    assert frame_of("0016E5_07959") == ("0016E5", 7959)
    assert frame_of("0006R0_f02910.png") == ("0006R0", 2910) and frame_of("Seq05VD_f00030") == ("Seq05VD", 30)
    assert reference_frame_gaps(["0016E5_07959", "Seq05VD_f00030"], ["0016E5_07920", "0016E5_08190"]) == [39, None]


def wrong_prediction(**flags):
    def answer(model, image, train_size):
        return reference_prediction(model, image, train_size, **flags)
    return answer


def at_training_size(model, image, train_size):
    model.eval()
    with torch.no_grad():
        return model(F.interpolate(image[None], size=tuple(train_size), mode="bilinear")).argmax(1)[0]


@pytest.mark.parametrize(("wrong", "says"), [
    (wrong_prediction(labels_nearest=True), "the labels are upsampled, not the scores"),
    (wrong_prediction(resize_input=False), "the model sees the full-size image"),
    (wrong_prediction(eval_mode=False), "the model is in training mode"),
    (at_training_size, "the labels are at the training size"),
    (wrong_prediction(align_corners=True), "align_corners=True"),
    (lambda model, image, train_size: torch.zeros(image.shape[-2:], dtype=torch.long), "the smallest that fails"),
])
def test_prediction_check_names_the_mistake(wrong, says):
    assert says in diagnosis(check_predict_at_training_size, wrong)


def gaps_over_all_drives(val_names, train_names):
    frames = [int(n.split("_")[1].lstrip("f")) for n in train_names]
    return [min(abs(int(n.split("_")[1].lstrip("f")) - f) for f in frames) for n in val_names]


def signed_gaps(val_names, train_names):
    out = []
    for name in val_names:
        drive, frame = frame_of(name)
        frames = [f for d, f in map(frame_of, train_names) if d == drive]
        out.append(min((frame - f for f in frames), key=abs) if frames else None)
    return out


def no_f(val_names, train_names):
    """Right, but for the names with an f: int() fails on them."""
    def parse(name):
        drive, frame = name.split("_")
        return drive, int(frame)

    train = [parse(n) for n in train_names]
    out = []
    for drive, frame in map(parse, val_names):
        frames = [f for d, f in train if d == drive]
        out.append(min(abs(frame - f) for f in frames) if frames else None)
    return out


def zero_for_missing(val_names, train_names):
    return [0 if g is None else g for g in reference_frame_gaps(val_names, train_names)]


@pytest.mark.parametrize(("wrong", "says"), [
    (gaps_over_all_drives, "frame numbers of different drives are compared"),
    (signed_gaps, "a gap is a distance"),
    (no_f, "put an f before the frame number"),
    (zero_for_missing, "return None for it, not 0"),
    (lambda v, t: [1] * len(v), "the smallest that fails"),
])
def test_frame_gaps_check_names_the_mistake(wrong, says):
    assert says in diagnosis(check_frame_gaps, wrong)
