"""Inference and metrics on real files from ../shared/data (found through SEGLIB_SHARED_DATA).

The real-dataset loaders come with their own tests; these check that what the skeleton
offers (predict at any size, the confusion matrix with a dataset's own void index)
works on real CamVid frames at their native 480x360, which no model divisor fits.
"""

import cv2
import numpy as np
import torch

from seglib import ConfusionMatrix, create_model, predict


def read_camvid11(root, split, stem):
    image = cv2.cvtColor(cv2.imread(str(root / "camvid11" / split / f"{stem}.png")), cv2.COLOR_BGR2RGB)
    label = cv2.imread(str(root / "camvid11" / f"{split}annot" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
    return image, label


def test_predict_and_score_real_camvid_frames_at_native_size(shared_data):
    stems = (shared_data / "camvid11" / "val.txt").read_text().split()[:2]
    torch.manual_seed(0)
    model = create_model("unet", num_classes=11).eval()
    cm = ConfusionMatrix(11, ignore_index=11)  # the SegNet release labels void as 11
    for stem in stems:
        image, label = read_camvid11(shared_data, "val", stem)
        assert image.shape == (360, 480, 3) and label.shape == (360, 480)
        assert label.max() <= 11
        pred = predict(model, image)  # 360 is not a multiple of 16: padded, then cropped
        assert pred.shape == (360, 480)
        cm.update(pred[None], torch.from_numpy(label.astype(np.int64))[None])
    result = cm.compute()
    scored = sum(int((read_camvid11(shared_data, "val", s)[1] != 11).sum()) for s in stems)
    assert result["matrix"].sum() == scored  # void pixels are never counted
    assert 0 <= result["pixel_acc"] <= 1
