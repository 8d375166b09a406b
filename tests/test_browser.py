"""The widgets in a real browser: JupyterLab, headless Chromium, a slider moved by keyboard.

The test starts JupyterLab on 127.0.0.1 (random port and token) in a temporary folder,
opens tests/browser/widgets_smoke.ipynb in headless Chromium, runs all cells from the
Run menu, moves the dataset browser's slider with the arrow keys and checks that the picture
changed (the image's ``src`` and the pixels shown), then hides a class in the prediction
explorer by clicking its button and checks that the explorer's picture changed, then uploads a
PNG through the photo predictor's file input and checks that its picture and status changed.

A second test opens the student version of notebook 00 (``tools/make_assignments.py``, tiny
parameters), runs all cells from the Run menu (JupyterLab goes on past the unsolved
exercises, whose cells are tagged ``raises-exception``, to the final mIoU), then types a wrong
answer into the first exercise, runs it and its check, and sees the check's diagnosis.

Screenshots, the browser console and the server log go to test-artifacts/browser/.
Needs Debian's ``chromium`` and ``chromium-driver`` (.ci/run installs them): skipped
without them, except under CI (``CI`` set), where it fails.
"""

import shutil
import sys
from pathlib import Path

import cv2
import nbformat
import numpy as np
import pytest
from browser import lab
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "tests" / "browser" / "widgets_smoke.ipynb"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
IMAGE = ".jp-OutputArea-output img.widget-image"
SLIDER_HANDLE = ".jp-OutputArea-output .widget-slider .noUi-handle"  # the first: the image index
CLASS_BUTTON = ".jp-OutputArea-output .widget-toggle-button"  # one per class: shows / hides it
ERROR = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
STUDENT_NOTEBOOK = ROOT / "notebooks" / "00_data_and_metrics.ipynb"
# The first exercise answered in one line, as a student might, with rows and columns swapped.
WRONG_ANSWER = ("import torch; confusion_matrix = lambda pred, target, num_classes, ignore_index=255: torch.bincount("
                "num_classes * pred[target != ignore_index] + target[target != ignore_index], "
                "minlength=num_classes ** 2).reshape(num_classes, num_classes)")


# Run in the page before clicking an upload button: its click on a file input shows the input
# in the page (id seglib-file-input) instead of opening the browser's file dialog.
EXPOSE_FILE_INPUT = """
const click = HTMLInputElement.prototype.click;
HTMLInputElement.prototype.click = function () {
    if (this.type !== "file") { return click.call(this); }
    this.id = "seglib-file-input";
    this.style.display = "block";
    document.body.appendChild(this);
};
"""


@pytest.fixture
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    yield ARTIFACTS
    print("browser test artifacts:", *sorted(map(str, ARTIFACTS.iterdir())), sep="\n  ")


@pytest.fixture
def browser_installed():
    lab.require_browser()


@pytest.fixture
def server(browser_installed, tmp_path, artifacts):
    (tmp_path / "notebooks").mkdir()
    shutil.copy(NOTEBOOK, tmp_path / "notebooks")
    jupyter = lab.JupyterLab(tmp_path / "notebooks", tmp_path / "jupyter", artifacts / "jupyter-server.log")
    try:
        jupyter.start(timeout=60)
        yield jupyter
    finally:
        jupyter.stop()


@pytest.fixture
def student_server(browser_installed, tmp_path, artifacts):
    """JupyterLab serving the student version of notebook 00, made by tools/make_assignments.py,
    with tiny parameters so that Run All takes seconds."""
    sys.path.insert(0, str(ROOT / "tools"))
    import make_assignments

    make_assignments.make_assignments([STUDENT_NOTEBOOK], tmp_path / "course", commit="0" * 40)
    release = tmp_path / "course" / "release" / STUDENT_NOTEBOOK.stem
    notebook = nbformat.read(release / STUDENT_NOTEBOOK.name, as_version=4)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    parameters.source += "\nsteps = 3\nimage_size = (32, 64)\nbatch_size = 4"
    nbformat.write(notebook, release / STUDENT_NOTEBOOK.name)
    jupyter = lab.JupyterLab(release, tmp_path / "jupyter", artifacts / "jupyter-server.log")
    try:
        jupyter.start(timeout=60)
        yield jupyter
    finally:
        jupyter.stop()


@pytest.fixture
def driver(browser_installed, artifacts):
    chromium = lab.chromium(artifacts / "chromedriver.log")
    try:
        yield chromium
    finally:  # whatever happened: the last picture and the console, then close the browser
        try:
            chromium.save_screenshot(str(artifacts / "last.png"))
            console = "\n".join(f"{e['level']} {e['message']}" for e in chromium.get_log("browser"))
            (artifacts / "console.log").write_text(console + "\n")
        finally:
            chromium.quit()


def wait_for(driver, what, condition, timeout):
    """``condition(driver)`` once it is truthy; a failure naming ``what`` after ``timeout`` s."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.25).until(condition)
    except TimeoutException:
        pass
    pytest.fail(f"timed out after {timeout} s waiting for {what}; see {ARTIFACTS}", pytrace=False)


def labelled(css, label):
    """A condition: the elements matching ``css`` whose text is ``label``."""
    return lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, css) if e.text == label]


def kernel_idle(driver):
    """The status bar says "Python 3 (ipykernel) | Idle" (it says "Initializing" before)."""
    return any(e.text.endswith("| Idle") for e in driver.find_elements(By.CSS_SELECTOR, ".jp-StatusBar-TextItem"))


def rendered_image(driver):
    """The widget's picture once it is drawn; fails at once if a cell printed an error."""
    if errors := [e.text for e in driver.find_elements(By.CSS_SELECTOR, ERROR) if "Error" in e.text]:
        pytest.fail("the notebook failed in JupyterLab:\n" + "\n".join(errors), pytrace=False)
    images = driver.find_elements(By.CSS_SELECTOR, IMAGE)
    return images[0] if images and images[0].get_attribute("src") and images[0].size["height"] > 0 else None


def open_and_run_all(driver, url):
    """Open a notebook, wait for its kernel, then Run > Run All Cells, as a person would."""
    driver.get(url)
    wait_for(driver, "the notebook to open and its kernel to start", lambda d: d.find_elements(
        By.CSS_SELECTOR, ".jp-Notebook .jp-Cell") and kernel_idle(d), timeout=60)
    wait_for(driver, "the Run menu", labelled(".lm-MenuBar-itemLabel", "Run"), timeout=10)[0].click()
    wait_for(driver, "Run > Run All Cells", labelled(".lm-Menu-itemLabel", "Run All Cells"), timeout=10)[0].click()


@pytest.mark.slow
def test_moving_the_slider_redraws_the_widget_in_jupyterlab(server, driver, artifacts):
    # Each step waits at most its own timeout: about 4 minutes in all at worst, ~30 s usually.
    open_and_run_all(driver, server.url(f"lab/tree/{NOTEBOOK.name}"))
    image = wait_for(driver, "the widget's image after Run All Cells", rendered_image, timeout=60)
    driver.save_screenshot(str(artifacts / "1-rendered.png"))
    before_src, before_pixels = image.get_attribute("src"), image.screenshot_as_png

    handle = wait_for(driver, "the slider's handle", lambda d: d.find_elements(By.CSS_SELECTOR, SLIDER_HANDLE),
                      timeout=10)[0]
    handle.click()  # focus it: the arrow keys then move the slider, as a person's would
    handle.send_keys(Keys.ARROW_RIGHT * 3)
    wait_for(driver, "the image to change after moving the slider",
             lambda d: image.get_attribute("src") != before_src, timeout=30)
    driver.save_screenshot(str(artifacts / "2-slider-moved.png"))
    wait_for(driver, "the new picture to be shown", lambda d: image.screenshot_as_png != before_pixels, timeout=10)

    # The prediction explorer, in the second code cell: hide the first class (road, in every scene).
    explorer = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")[1]
    explorer_image = wait_for(driver, "the prediction explorer's image", lambda d: [
        e for e in explorer.find_elements(By.CSS_SELECTOR, IMAGE) if e.get_attribute("src")], timeout=60)[0]
    before_src = explorer_image.get_attribute("src")
    wait_for(driver, "the explorer's class buttons", lambda d: explorer.find_elements(By.CSS_SELECTOR, CLASS_BUTTON),
             timeout=10)[0].click()
    wait_for(driver, "the explorer's image to change after hiding a class",
             lambda d: explorer_image.get_attribute("src") != before_src, timeout=30)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", explorer_image)
    driver.save_screenshot(str(artifacts / "3-class-hidden.png"))

    # The photo predictor, in the third code cell: choose a PNG in its upload button's file input.
    photo_cell = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")[2]
    photo_image = wait_for(driver, "the photo predictor's image", lambda d: [
        e for e in photo_cell.find_elements(By.CSS_SELECTOR, IMAGE) if e.get_attribute("src")], timeout=60)[0]
    before_src = photo_image.get_attribute("src")
    photo = artifacts / "my-street.png"
    rgb = np.zeros((150, 200, 3), np.uint8)
    rgb[:75], rgb[75:, :, 1] = (90, 140, 230), 200  # a sky-blue top, a green bottom
    assert cv2.imwrite(str(photo), rgb[..., ::-1])
    # The upload button clicks a file input that is not in the page (the browser's file dialog
    # opens instead, which WebDriver cannot use): put that input into the page when it is
    # clicked, then choose the file in it, as the dialog would.
    driver.execute_script(EXPOSE_FILE_INPUT)
    button = photo_cell.find_element(By.CSS_SELECTOR, ".widget-upload")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    file_input = wait_for(driver, "the upload button's file input", lambda d: d.find_elements(
        By.ID, "seglib-file-input"), timeout=10)[0]
    file_input.send_keys(str(photo))
    wait_for(driver, "the photo predictor to show the uploaded photo",
             lambda d: photo_image.get_attribute("src") != before_src and "my-street.png: 200x150 pixels"
             in photo_cell.text, timeout=30)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", photo_image)
    driver.save_screenshot(str(artifacts / "3b-photo-uploaded.png"))


@pytest.mark.slow
def test_a_student_s_wrong_answer_gets_its_diagnosis_in_jupyterlab(student_server, driver, artifacts):
    # Run All goes on past the unsolved exercises (their cells are tagged raises-exception): the
    # last cell prints the final mIoU, and the first check says its exercise is not written yet.
    open_and_run_all(driver, student_server.url(f"lab/tree/{STUDENT_NOTEBOOK.name}"))
    # JupyterLab renders only the cells near the view (and follows the running cell): look for
    # the last cell anew at each try rather than keep the one rendered last at the start.
    wait_for(driver, "Run All to reach the last cell", lambda d: "FINAL val mIoU" in d.find_elements(
        By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")[-1].get_attribute("textContent"), timeout=180)
    wait_for(driver, "the kernel to be idle after Run All", kernel_idle, timeout=60)
    driver.save_screenshot(str(artifacts / "4-run-all.png"))
    exercise = wait_for(driver, "the first exercise's cell", lambda d: [
        c for c in d.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-CodeCell")
        if "def confusion_matrix" in c.text and "raise NotImplementedError()" in c.text], timeout=10)[0]
    check = exercise.find_element(By.XPATH, "following-sibling::div[contains(@class, 'jp-CodeCell')][1]")
    assert "not written yet" in check.get_attribute("textContent")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", exercise)
    editor = exercise.find_element(By.CSS_SELECTOR, ".cm-content")
    editor.click()
    editor.send_keys(Keys.CONTROL, "a")  # the stub goes: the student's answer replaces it
    editor.send_keys(WRONG_ANSWER)
    wait_for(driver, "the answer to be typed", lambda d: "torch.bincount" in exercise.text, timeout=10)
    editor.send_keys(Keys.SHIFT, Keys.ENTER)  # run the exercise; the check cell is selected next
    wait_for(driver, "the exercise to run", kernel_idle, timeout=30)
    driver.switch_to.active_element.send_keys(Keys.SHIFT, Keys.ENTER)  # run the check
    found = wait_for(driver, "the check's diagnosis", lambda d: "rows and columns are swapped" in check.text,
                     timeout=60)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", check)
    driver.save_screenshot(str(artifacts / "5-exercise-diagnosed.png"))
    assert found and "case 1/6: 2x2 maps, no void, 2 classes: WRONG" in check.text
    assert "AssertionError" in check.text
