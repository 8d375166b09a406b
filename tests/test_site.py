"""The course website (``make site``, tools/build_site.py): built offline, two editions, checked in Chromium.

Fast: every figure in the committed notebooks has alt text, and a notebook prepared for the site
is what the page promises (stubs in the student edition, solutions in the instructor's, answers
to "Predict, then run" folded, widgets labelled as stills, the executed-at line from git).
Slow: both editions built once per session, in a network namespace without interfaces when the
machine allows one (the proof that the build needs no network); then their pages are read
(no solution line in the student edition, every image with alt text, nothing loaded from
another host, each model page showing its file), and headless Chromium opens the student
edition: every image loads, formulas are typeset, the next-page link reaches the next
notebook, an exercise shows its stub, an answer opens when clicked. Screenshots go to
test-artifacts/site/.
"""

import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from test_assignments import solution_lines

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_site  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
ARTIFACTS = ROOT / "test-artifacts" / "site"


def figure_cells(nb) -> list[str]:
    return [c.id for c in nb.cells if c.cell_type == "code"
            and any({"image/png", "image/jpeg"} & set(o.get("data", {})) for o in c.outputs)]


def test_every_figure_has_alt_text_and_no_entry_is_stale():
    alt_text = json.loads(build_site.FIGURES.read_text())
    for path in NOTEBOOKS:
        cells = figure_cells(nbformat.read(path, as_version=4))
        entries = alt_text.get(path.stem, {})
        assert not set(cells) - set(entries), f"{path.name}: figures without alt text in docs/figures.json"
        assert not set(entries) - set(cells), f"{path.name}: docs/figures.json describes cells with no figure"
        for cell_id in cells:
            assert len(entries[cell_id].split()) >= 8 and "TODO" not in entries[cell_id], (path.name, cell_id)


@pytest.fixture(scope="module")
def models():
    return build_site.models_by_module()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_notebook_prepared_for_the_site(path, models):
    committed = nbformat.read(path, as_version=4)
    alt_text = json.loads(build_site.FIGURES.read_text())[path.stem]
    student = build_site.prepare_notebook(path, "student", alt_text, models)
    instructor = build_site.prepare_notebook(path, "instructor", alt_text, models)
    student_text = "\n".join(c.source for c in student.cells)
    instructor_text = "\n".join(c.source for c in instructor.cells)
    solutions = [c for c in committed.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert solutions
    for cell in solutions:
        lines = solution_lines(cell)
        assert lines and not [line for line in lines if line in student_text], cell.metadata.nbgrader.grade_id
        assert all(line in instructor_text for line in lines)
    assert student_text.count("# YOUR CODE HERE") >= len(solutions)
    checks = [c for c in student.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert checks and all(not c.outputs for c in checks), "a stub cannot earn the check's 'all N cases pass'"
    assert any("cases pass" in str(c.outputs) for c in instructor.cells if c.metadata.get("nbgrader", {}).get("grade"))
    # The page's header says when and at which commit the outputs were made, from git.
    commit = subprocess.run(["git", "log", "-1", "--format=%h", "--", str(path)], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    assert commit and f"commit [{commit}]" in student.cells[1].source
    # Each "Predict, then run" folds the output of the code cell that answers it.
    predictions = sum(build_site.PREDICT in c.source for c in committed.cells if c.cell_type == "markdown")
    folded = [c for c in student.cells if "hide-output" in c.metadata.get("tags", [])]
    assert len(folded) == predictions and all(c.outputs for c in folded)
    # Figures carry their alt text; widgets say that the picture is a still.
    for cell in student.cells:
        if cell.get("id") in alt_text:
            assert cell.metadata.mystnb["image"]["alt"] == alt_text[cell.id]
    widgets = sum("a live widget" in str(c.get("outputs")) for c in committed.cells if c.cell_type == "code")
    assert student_text.count("the widget is live") == widgets


def test_the_model_files_each_notebook_teaches(models):
    taught = {path.stem: build_site.taught_files(nbformat.read(path, as_version=4), models) for path in NOTEBOOKS}
    assert {"fcn", "vgg"} <= set(taught["01_fcn"])
    assert "unet" in taught["02_unet"] and "inception_unet" in taught["03_inception_unet"]
    assert "dilated_unet" in taught["04_dilated_unet"]
    assert {"deeplab", "pspnet"} <= set(taught["05_deeplab_pspnet"])
    assert {"fcn", "unet", "inception_unet", "dilated_unet", "deeplab", "pspnet"} <= set(taught["06_comparison"])


def test_a_missing_readme_section_is_named():
    with pytest.raises(SystemExit, match="no heading '## The course'"):
        build_site.readme_section("# seglib\n\n## Two commands\n", "## Two commands", "## The course")


@pytest.mark.slow
def test_a_broken_link_or_a_missing_image_fails_the_build(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(build_site.DOCS, source, ignore=shutil.ignore_patterns("*.md", "api", "models"))
    (source / "index.md").write_text("# A page\n\nSee [the missing page](nowhere.md).\n\n![a chart](missing.png)\n")
    command = [sys.executable, "-m", "sphinx", *build_site.SPHINX_OPTIONS, str(source), str(tmp_path / "out")]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode != 0
    assert "nowhere.md" in result.stderr and "missing.png" in result.stderr, result.stderr


# ----- the built site ---------------------------------------------------------------------------------------


def network_namespace_works() -> bool:
    """Whether this machine lets a user enter a new network namespace (no interface but loopback, down)."""
    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """Both editions, built once, offline where the machine allows it: {edition: folder}."""
    out = tmp_path_factory.mktemp("site")
    command = [sys.executable, str(ROOT / "tools" / "build_site.py"), "--out", str(out)]
    offline = network_namespace_works()
    result = subprocess.run((["unshare", "-rn"] if offline else []) + command, cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f"the build failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    return {"offline": offline, **{edition: out / edition for edition in build_site.EDITIONS}}


@pytest.mark.slow
def test_the_site_builds_without_a_network(site):
    if not site["offline"]:
        pytest.skip("this machine refuses a network namespace (unshare -rn): the build ran with the network, "
                    "and only the page scan below shows that no page loads anything from another host")
    assert (site["student"] / "index.html").is_file() and (site["instructor"] / "index.html").is_file()


class PageParser(HTMLParser):
    """The images, links, scripts and the text of the code blocks of one HTML page."""

    def __init__(self):
        super().__init__()
        self.images, self.remote, self.code, self._pre, self._line_number = [], [], [], 0, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        source = attrs.get("src") if tag in ("img", "script", "iframe") else (
            attrs.get("href") if tag == "link" and attrs.get("rel") != "canonical" else None)
        if source and re.match(r"(https?:)?//", source):
            self.remote.append(f"<{tag}> {source}")
        if tag == "pre":
            self._pre += 1
            self.code.append("")
        self._line_number = tag == "span" and attrs.get("class") == "linenos"

    def handle_endtag(self, tag):
        if tag == "pre":
            self._pre -= 1
        self._line_number = False

    def handle_data(self, data):
        if self._pre and not self._line_number:
            self.code[-1] += data


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text())
    return parser


@pytest.mark.slow
def test_the_student_edition_holds_no_solution_line_and_the_instructor_edition_shows_them(site):
    for path in NOTEBOOKS:
        lines = [line for cell in nbformat.read(path, as_version=4).cells for line in solution_lines(cell)]
        for edition in build_site.EDITIONS:
            page = parse(site[edition] / "notebooks" / f"{path.stem}.html")
            shown = {line.strip() for block in page.code for line in block.splitlines()}
            leaked = [line for line in lines if line in shown]
            if edition == "student":
                assert not leaked, f"{path.name}: solution lines on the student page: {leaked}"
                assert any("# YOUR CODE HERE" in block for block in page.code), path.name
            else:
                assert leaked == lines, f"{path.name}: the instructor page lacks solution lines"
    for file in site["student"].rglob("*"):
        if file.is_file() and file.suffix in (".html", ".js", ".txt", ".ipynb", ".json"):
            assert "BEGIN SOLUTION" not in file.read_text(errors="replace"), file


@pytest.mark.slow
def test_every_page_loads_nothing_from_another_host_and_every_image_has_alt_text(site):
    pages = sorted(site["student"].rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        parsed = parse(page)
        assert not parsed.remote, f"{page.name} loads from another host: {parsed.remote}"
        for image in parsed.images:
            assert image.get("alt", "").strip(), f"{page.name}: an image without alt text: {image.get('src')}"
            assert (page.parent / image["src"]).is_file(), f"{page.name}: missing image {image['src']}"
    for stylesheet in site["student"].rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import\s+['\"]?(url\()?['\"]?(https?:)?//",
                             stylesheet.read_text(errors="replace")), stylesheet


@pytest.mark.slow
def test_model_pages_show_the_files_the_notebooks_run(site):
    for path in build_site.MODEL_FILES:
        page = site["student"] / "models" / f"{path.stem}.html"
        shown = max(parse(page).code, key=len)
        assert shown.strip() == path.read_text().strip(), f"{page.name} does not show {path} as it is"
    unet_page = (site["student"] / "notebooks" / "02_unet.html").read_text()
    assert 'href="../models/unet.html"' in unet_page
    for stem in build_site.CAMVID_PAGES:
        assert "non-commercial use only" in (site["student"] / "notebooks" / f"{stem}.html").read_text()


# ----- in a real browser ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(site):
    """The student edition over HTTP on 127.0.0.1, as a static host would serve it."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site["student"]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def driver():
    from browser import lab

    lab.require_browser()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    chromium = lab.chromium(ARTIFACTS / "chromedriver.log", size=(1280, 900))
    try:
        yield chromium
    finally:
        chromium.save_screenshot(str(ARTIFACTS / "last.png"))
        chromium.quit()


UNLOADED_IMAGES = """
return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
"""


def open_page(driver, url: str, screenshot: str):
    """Open ``url``, scroll every image into view (lazy ones load), check all loaded, save a screenshot."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
    driver.execute_script("for (const i of document.images) { i.loading = 'eager'; i.scrollIntoView(); }")
    driver.execute_script("window.scrollTo(0, 0)")
    try:
        WebDriverWait(driver, 20, poll_frequency=0.25).until(lambda d: not d.execute_script(UNLOADED_IMAGES))
    except Exception:
        pytest.fail(f"{url}: images that did not load: {driver.execute_script(UNLOADED_IMAGES)}", pytrace=False)
    assert driver.find_element("css selector", "article h1").text.strip(), f"{url} rendered no title"
    driver.save_screenshot(str(ARTIFACTS / screenshot))


@pytest.mark.slow
def test_the_student_edition_in_chromium(served, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(driver, f"{served}/index.html", "1-landing.png")
    assert "make run" in driver.find_element(By.CSS_SELECTOR, "article").text
    driver.find_element(By.LINK_TEXT, "02 · U-Net").click()
    assert driver.current_url.endswith("/notebooks/02_unet.html")

    open_page(driver, f"{served}/notebooks/02_unet.html", "2-unet.png")
    stubs = [e for e in driver.find_elements(By.CSS_SELECTOR, "div.cell_input pre") if "# YOUR CODE HERE" in e.text]
    assert stubs, "no exercise stub on the U-Net page"
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", stubs[0])
    driver.save_screenshot(str(ARTIFACTS / "3-exercise-stub.png"))
    answer = driver.find_elements(By.CSS_SELECTOR, "details.hide")
    answer = [d for d in answer if d.find_elements(By.CSS_SELECTOR, ".cell_output")][0]
    hidden_output = answer.find_element(By.CSS_SELECTOR, ".cell_output")
    assert not hidden_output.is_displayed(), "a 'Predict, then run' answer shows before it is clicked"
    summary = answer.find_element(By.TAG_NAME, "summary")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    summary.click()
    WebDriverWait(driver, 5).until(lambda d: hidden_output.is_displayed(), "the answer did not open when clicked")
    driver.save_screenshot(str(ARTIFACTS / "4-answer-opened.png"))
    next_link = driver.find_element(By.CSS_SELECTOR, "a.right-next")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", next_link)
    next_link.click()
    assert driver.current_url.endswith("/notebooks/03_inception_unet.html"), driver.current_url

    open_page(driver, f"{served}/notebooks/04_dilated_unet.html", "5-dilated-unet.png")
    formulas = driver.find_elements(By.CSS_SELECTOR, "div.math math")
    assert len(formulas) >= 2, "04's formulas are not on the page as MathML"
    for formula in formulas:
        assert formula.size["height"] > 10 and formula.size["width"] > 50, "a formula was not typeset"
    assert "$$" not in driver.find_element(By.CSS_SELECTOR, "article").text
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", formulas[0])
    driver.save_screenshot(str(ARTIFACTS / "6-formula.png"))

    open_page(driver, f"{served}/models/unet.html", "7-model-source.png")
    assert "class UNet" in driver.find_element(By.CSS_SELECTOR, "article").text
    console = driver.get_log("browser")
    (ARTIFACTS / "console.log").write_text("".join(f"{e['level']} {e['message']}\n" for e in console))
    failed = [e["message"] for e in console if "Failed to load" in e["message"]]
    assert not failed, f"resources that failed to load: {failed}"
