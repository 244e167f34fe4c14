"""The whole gallery in a real Chromium, checked by what a person sees and does.

Playwright drives the system's Chromium (``executable_path``; it cannot download a browser of its
own here). Every check reads the screen, never a value the page's script writes for tests: which
cards are displayed (computed style and a non-empty box), the diagram's size on screen after a
wheel, a key, a button or a pinch (CDP ``Input.synthesizePinchGesture`` in a touch-emulating
phone context), which file a picture shows in a dark-scheme context, where the page and the
diagram have scrolled to. No page may log an error or fail to load a file, and axe-core finds no
accessibility violation. Screenshots of the index and four model pages, at 1400×900 and 390×844,
light and dark, are kept in build/test-artifacts/gallery/ (not committed).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest

from archdraw.gallery import badges, build_gallery
from archdraw.loader import read
from archdraw.passes import analyze

from .conftest import ROOT, require_browser, require_engine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FloatRect, Page

pytestmark = [pytest.mark.slow, pytest.mark.exe]

SPECS = sorted((ROOT / "specs").glob("*.yaml"))
TRUTH = json.loads((ROOT / "tests" / "truth" / "gallery.json").read_text(encoding="utf-8"))
ARTIFACTS = ROOT / "build" / "test-artifacts" / "gallery"
DESKTOP = (1400, 900)
PHONE = (390, 844)


# -- the site, a server and a browser --------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """What the index should show of one spec, from its analysed graph."""

    name: str
    text: str  # what a filter word is looked for in: name, family, summary, badges
    badges: frozenset[str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_engine("bundled")
    require_browser()
    folder = tmp_path_factory.mktemp("gallery") / "site"
    report = build_gallery(SPECS, folder, engine="bundled")
    assert report.failed == [] and len(report.built) == len(SPECS)
    return folder


@pytest.fixture(scope="module")
def cards() -> dict[str, Card]:
    """Every spec's card by spec name (the file's stem)."""
    out = {}
    for spec in SPECS:
        graph = analyze(read(spec))
        found = badges(graph)
        words = [graph.name, graph.family, graph.summary, *(b.key for b in found), *(b.label for b in found)]
        out[spec.stem] = Card(graph.name, " ".join(words).lower(), frozenset(b.key for b in found))
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Trouble:
    """What went wrong in the pages a test opened: console errors, script errors, failed loads."""

    seen: list[str] = field(default_factory=list)

    def failed(self, url: str, failure: str | None) -> None:
        # A load that leaving or reloading the page cancels is no fault of the page.
        if failure != "net::ERR_ABORTED":
            self.seen.append(f"failed to load {url}: {failure}")


Opener = Callable[..., "Page"]


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Opener]:
    """``open_page(url, phone=False, scheme="light")``: a page in a fresh context, errors watched."""
    trouble = Trouble()
    contexts = []

    def opener(url: str, *, phone: bool = False, scheme: Literal["light", "dark"] = "light") -> Page:
        w, h = PHONE if phone else DESKTOP
        context = browser.new_context(
            viewport={"width": w, "height": h},
            is_mobile=phone,
            has_touch=phone,
            device_scale_factor=1,
            color_scheme=scheme,
        )
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda m: trouble.seen.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: trouble.seen.append(f"script error: {e}"))
        page.on("requestfailed", lambda r: trouble.failed(r.url, r.failure))
        page.on(
            "response", lambda r: trouble.seen.append(f"{r.status} for {r.url}") if r.status >= 400 else None
        )
        page.goto(url)
        page.wait_for_load_state("load")
        return page

    yield opener
    for context in contexts:
        context.close()
    assert trouble.seen == []


# -- what a person sees ------------------------------------------------------------------------------

SHOWN = """() => [...document.querySelectorAll('.card')].filter((card) => {
  const style = getComputedStyle(card), box = card.getBoundingClientRect();
  return style.display !== 'none' && style.visibility !== 'hidden' && box.width > 0 && box.height > 0;
}).map((card) => card.querySelector('.name').textContent)"""


FAMILIES_AMISS = """() => [...document.querySelectorAll('.family')].filter((family) => {
  const on = getComputedStyle(family).display !== 'none';
  const any = [...family.querySelectorAll('.card')].some((c) => c.getBoundingClientRect().height > 0);
  return on !== any;
}).map((family) => family.dataset.family)"""


def shown(page: Page) -> list[str]:
    """The names on the cards a person can see (computed style and box, not attributes)."""
    names: list[str] = page.evaluate(SHOWN)
    return names


def counted(page: Page) -> int:
    """The number the page says its filter matches, as it reads on screen."""
    status = page.locator("#count")
    assert status.is_visible()
    match = re.match(r"(\d+)", status.inner_text())
    assert match is not None
    return int(match.group(1))


def expected(cards: dict[str, Card], query: str) -> list[str]:
    """The names a filter should show: every word in a card's text; is:KEY, that badge."""
    words = query.lower().split()
    return sorted(
        c.name
        for c in cards.values()
        if all(w[3:] in c.badges if w.startswith("is:") else w in c.text for w in words)
    )


def box(page: Page, selector: str) -> FloatRect:
    """An element's box on screen, in CSS pixels."""
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


DIAGRAM = "figure.diagram:not([hidden]) .viewport img"
VIEWPORT = "figure.diagram:not([hidden]) .viewport"


def width(page: Page) -> float:
    return box(page, DIAGRAM)["width"]


def scrolled(page: Page) -> tuple[float, float]:
    """How far the shown diagram's box has scrolled."""
    at: list[float] = page.eval_on_selector(VIEWPORT, "v => [v.scrollLeft, v.scrollTop]")
    return at[0], at[1]


def settle(page: Page) -> None:
    """Two animation frames: what a script changed has been laid out and painted."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def load_every_image(page: Page) -> None:
    """Scroll through the page, as a reader would, so lazy pictures load; then wait for them all."""
    height: int = page.evaluate("document.documentElement.scrollHeight")
    for y in range(0, height, 600):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(20)
    page.wait_for_function("[...document.images].every((i) => i.complete)")
    page.evaluate("window.scrollTo(0, 0)")


def broken_images(page: Page) -> list[str]:
    names: list[str] = page.evaluate("[...document.images].filter((i) => !i.naturalWidth).map((i) => i.src)")
    return names


def _keep(page: Page, name: str) -> None:
    """A screenshot of what the page shows now, for people to look at (not compared)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG")


# -- the index's filter -------------------------------------------------------------------------------

QUERIES = ["recurrent", "skip", "bottleneck", "resnet", "recurrent skip", "lstm", "is:gradient", "zzz"]


def test_typing_in_the_filter_shows_as_many_cards_as_it_counts(
    server: str, open_page: Opener, cards: dict[str, Card]
) -> None:
    page = open_page(f"{server}/index.html")
    assert len(shown(page)) == counted(page) == len(SPECS)
    box_ = page.locator("#filter")
    results = {}
    for query in QUERIES:
        box_.fill("")
        box_.press_sequentially(query)  # key by key, as typed
        names = shown(page)
        results[query] = len(names)
        assert len(names) == counted(page), query
        assert sorted(names) == expected(cards, query), query
        assert page.locator("#empty").is_visible() == (not names)
        # A family's section is shown when, and only when, a card of it is.
        assert page.evaluate(FAMILIES_AMISS) == [], query
    print("cards shown for each query:", results)
    box_.fill("")
    assert len(shown(page)) == counted(page) == len(SPECS)


def test_the_address_filters_when_the_page_opens_and_when_it_changes(
    server: str, open_page: Opener, cards: dict[str, Card]
) -> None:
    page = open_page(f"{server}/index.html#q=recurrent")
    assert page.locator("#filter").input_value() == "recurrent"
    assert sorted(shown(page)) == expected(cards, "recurrent")
    assert len(shown(page)) == counted(page)
    page.goto(f"{server}/index.html#q=skip")  # the address edited on the open page: no reload
    assert page.locator("#filter").input_value() == "skip"
    assert sorted(shown(page)) == expected(cards, "skip")
    assert len(shown(page)) == counted(page)
    page.go_back()  # back to #q=recurrent
    assert sorted(shown(page)) == expected(cards, "recurrent")
    # What is typed goes into the address, so a reload or a shared link shows the same cards.
    page.locator("#filter").fill("gradient")
    page.wait_for_function("location.hash === '#q=gradient'")
    page.reload()
    assert sorted(shown(page)) == expected(cards, "gradient")


def test_badges_on_the_cards_and_their_buttons_tell_the_truth(
    server: str, open_page: Opener, cards: dict[str, Card]
) -> None:
    page = open_page(f"{server}/index.html")
    truth = {
        "recurrent": sorted(cards[n].name for n, t in TRUTH.items() if t["recurrent"]),
        "skip": sorted(cards[n].name for n, t in TRUTH.items() if t["skips"]),
        "bottleneck": sorted(cards[n].name for n, t in TRUTH.items() if t["bottlenecks"]),
    }
    for key, names in truth.items():
        button = page.locator(f'.features button[data-feature="is:{key}"]')
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
        assert sorted(shown(page)) == names, key
        assert len(names) == counted(page)
        # Every card shown says so with its badge, where a person can see it.
        badged: list[bool] = page.evaluate(
            f"""[...document.querySelectorAll('.card')]
               .filter((c) => getComputedStyle(c).display !== 'none')
               .map((c) => [...c.querySelectorAll('.badge-{key}')]
                 .some((b) => b.getBoundingClientRect().width > 0))"""
        )
        assert badged and all(badged), key
        button.click()
        assert len(shown(page)) == len(SPECS)


# -- zooming a diagram --------------------------------------------------------------------------------


def test_wheel_keys_buttons_and_drag_zoom_and_move_the_diagram(server: str, open_page: Opener) -> None:
    page = open_page(f"{server}/models/lstm.html")
    settle(page)
    frame, picture = box(page, VIEWPORT), box(page, DIAGRAM)
    fitted = picture["width"]
    # It opens whole: the picture is inside its box.
    assert (
        picture["x"] >= frame["x"] - 1 and picture["x"] + picture["width"] <= frame["x"] + frame["width"] + 1
    )
    assert (
        picture["y"] >= frame["y"] - 1
        and picture["y"] + picture["height"] <= frame["y"] + frame["height"] + 1
    )

    # The wheel zooms about the pointer. While the picture is narrower than its box it stays in
    # the middle across; from then on the point under the pointer stays under it.
    x, y = picture["x"] + picture["width"] * 0.3, picture["y"] + picture["height"] * 0.4
    page.mouse.move(x, y)
    page.mouse.wheel(0, -300)
    settle(page)
    after = box(page, DIAGRAM)
    wheel_in = after["width"] / fitted
    assert 1.4 < wheel_in < 1.7  # e^(300 × 0.0015) = 1.57
    assert abs((y - after["y"]) / after["height"] - 0.4) < 0.01
    if after["width"] < frame["width"]:
        assert after["x"] + after["width"] / 2 == pytest.approx(frame["x"] + frame["width"] / 2, abs=10)
    page.mouse.wheel(0, -300)
    settle(page)
    twice = box(page, DIAGRAM)
    assert twice["width"] > frame["width"]
    assert abs((x - twice["x"]) / twice["width"] - (x - after["x"]) / after["width"]) < 0.01
    assert abs((y - twice["y"]) / twice["height"] - 0.4) < 0.01
    assert page.evaluate("window.scrollY") == 0  # the wheel zoomed, it did not scroll the page
    page.mouse.wheel(0, 300)
    page.mouse.wheel(0, 300)
    settle(page)
    assert abs(width(page) - fitted) < 1

    # The keyboard: Tab reaches the diagram, which shows that it has the focus; + − 0 and arrows.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('figure.diagram:not([hidden]) .viewport')"):
            break
    else:
        pytest.fail("Tab never reaches the diagram")
    outline: list[str] = page.eval_on_selector(
        VIEWPORT, "v => [getComputedStyle(v).outlineStyle, getComputedStyle(v).outlineWidth]"
    )
    assert outline[0] != "none" and float(outline[1].removesuffix("px")) >= 2
    page.keyboard.press("+")
    assert width(page) / fitted == pytest.approx(1.25, rel=0.01)
    page.keyboard.press("+")
    key_in = width(page) / fitted
    assert key_in == pytest.approx(1.5625, rel=0.01)
    page.keyboard.press("-")
    assert width(page) / fitted == pytest.approx(1.25, rel=0.01)
    for _ in range(4):
        page.keyboard.press("+")
    before = box(page, DIAGRAM)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    moved = box(page, DIAGRAM)
    assert moved["x"] < before["x"] - 20 and moved["y"] < before["y"] - 20  # the view moved right and down
    page.keyboard.press("0")
    assert abs(width(page) - fitted) < 1 and scrolled(page) == (0, 0)

    # The buttons, for those with neither wheel nor keyboard.
    page.get_by_role("button", name="Zoom in").locator("visible=true").click()
    assert width(page) / fitted == pytest.approx(1.25, rel=0.01)
    page.locator("figure.diagram:not([hidden]) [data-zoom=actual]").click()
    natural: float = page.eval_on_selector(DIAGRAM, "i => i.naturalWidth")
    assert width(page) == pytest.approx(natural, abs=1)

    # A mouse drags the zoomed diagram.
    for _ in range(3):
        page.locator("figure.diagram:not([hidden]) [data-zoom=in]").click()
    page.mouse.move(10, 10)
    frame = box(page, VIEWPORT)
    start = box(page, DIAGRAM)
    page.mouse.move(frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
    page.mouse.down()
    page.mouse.move(frame["x"] + frame["width"] / 2 - 60, frame["y"] + frame["height"] / 2 - 50, steps=5)
    page.mouse.up()
    dragged = box(page, DIAGRAM)
    assert dragged["x"] == pytest.approx(start["x"] - 60, abs=2)
    assert dragged["y"] == pytest.approx(start["y"] - 50, abs=2)
    page.locator(VIEWPORT).dblclick()
    assert abs(width(page) - fitted) < 1
    print(f"lstm: fitted {fitted:.0f} px wide; wheel ×{wheel_in:.3f}; two presses of + ×{key_in:.4f}")


FINGERS = """() => {
  window.fingers = [];
  const spread = (e) => {
    if (e.touches.length !== 2) return;
    const [a, b] = e.touches;
    window.fingers.push(Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY));
  };
  document.addEventListener('touchstart', spread, { capture: true, passive: true });
  document.addEventListener('touchmove', spread, { capture: true, passive: true });
}"""


def _swipe(page: Page, points: list[tuple[float, float]], dx: float, dy: float, steps: int = 12) -> None:
    """Fingers put down at ``points`` and moved together by (dx, dy), as the touch screen says."""
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, at: list[tuple[float, float]]) -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y} for x, y in at]})

    touch("touchStart", points)
    for i in range(1, steps + 1):
        touch("touchMove", [(x + dx * i / steps, y + dy * i / steps) for x, y in points])
        page.wait_for_timeout(16)
    touch("touchEnd", [])
    cdp.detach()
    page.wait_for_timeout(300)


def _middle(page: Page) -> tuple[float, float]:
    """The middle of the part of the diagram's box that is on the screen."""
    frame = box(page, VIEWPORT)
    top, bottom = max(frame["y"], 0), min(frame["y"] + frame["height"], PHONE[1])
    return frame["x"] + frame["width"] / 2, (top + bottom) / 2


def test_a_phone_pinches_the_diagram_and_one_finger_scrolls_the_page(server: str, open_page: Opener) -> None:
    page = open_page(f"{server}/models/gnmt.html", phone=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]  # no sideways page
    page.locator(VIEWPORT).scroll_into_view_if_needed()
    settle(page)
    fitted = width(page)
    assert fitted <= box(page, VIEWPORT)["width"]
    centre = _middle(page)

    # The fingers, as the page receives them: their spread when both are down and at the end.
    page.evaluate(FINGERS)
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Input.synthesizePinchGesture",
        {
            "x": centre[0],
            "y": centre[1],
            "scaleFactor": 2.5,
            "relativeSpeed": 600,
            "gestureSourceType": "touch",
        },
    )
    settle(page)
    spread: list[float] = page.evaluate("window.fingers")
    pinched = width(page) / fitted
    assert pinched > 2  # the diagram grew ...
    assert pinched == pytest.approx(spread[-1] / spread[0], rel=0.03)  # ... as the fingers spread
    _keep(page, "gnmt-390x844-pinched")
    assert page.evaluate("visualViewport.scale") == 1  # the page itself did not zoom

    # Two fingers move the zoomed diagram; the page stays where it is.
    page_y: float = page.evaluate("window.scrollY")
    left, top = scrolled(page)
    _swipe(page, [(centre[0] - 40, centre[1]), (centre[0] + 40, centre[1])], -80, -60)
    assert scrolled(page)[0] > left + 40 and scrolled(page)[1] > top + 30
    assert page.evaluate("window.scrollY") == page_y

    # One finger on the diagram scrolls the page, and leaves the diagram as it is.
    at = scrolled(page)
    size = width(page)
    _swipe(page, [centre], 0, -250)
    assert page.evaluate("window.scrollY") > page_y + 100
    assert scrolled(page) == at and width(page) == size

    # Fingers closing zoom out; a double tap fits the diagram again.
    page.locator(VIEWPORT).scroll_into_view_if_needed()
    at_x, at_y = _middle(page)
    cdp.send(
        "Input.synthesizePinchGesture",
        {"x": at_x, "y": at_y, "scaleFactor": 0.6, "relativeSpeed": 600, "gestureSourceType": "touch"},
    )
    settle(page)
    assert fitted < width(page) < size * 0.75
    page.touchscreen.tap(at_x, at_y)
    page.wait_for_timeout(80)
    page.touchscreen.tap(at_x, at_y)
    page.wait_for_function(
        f"Math.abs(document.querySelector('{DIAGRAM}').getBoundingClientRect().width - {fitted}) < 1"
    )
    print(
        f"gnmt on a phone: fitted {fitted:.0f} px wide; a pinch (CDP scaleFactor 2.5, fingers "
        f"{spread[0]:.0f} → {spread[-1]:.0f} px apart) made it ×{pinched:.3f}"
    )


def _views(site: Path) -> list[tuple[str, str, float, float]]:
    """Every light view in the site: (slug, view key, width, height) in CSS pixels."""
    out = []
    for svg in sorted(site.glob("models/*/*.svg")):
        if svg.stem.endswith("-dark"):
            continue
        head = svg.read_text(encoding="utf-8")[:2000]
        found = re.search(r'<svg[^>]*?width="([\d.]+)pt" height="([\d.]+)pt"', head)
        assert found is not None, svg
        out.append((svg.parent.name, svg.stem, float(found.group(1)) * 4 / 3, float(found.group(2)) * 4 / 3))
    return out


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_tallest_view_opens_fitted_to_its_width_and_scrolls(
    site: Path, server: str, open_page: Opener, phone: bool
) -> None:
    slug, key, _, height = max(_views(site), key=lambda v: v[3])
    page = open_page(f"{server}/models/{slug}.html", phone=phone)
    page.locator(f'.views button[data-view="{key}"]').click()  # as a reader picks the view
    settle(page)
    natural: list[float] = page.eval_on_selector(DIAGRAM, "i => [i.naturalWidth, i.naturalHeight]")
    room: float = page.eval_on_selector(VIEWPORT, "v => v.clientWidth")
    frame, picture = box(page, VIEWPORT), box(page, DIAGRAM)
    scale = picture["width"] / natural[0]
    whole = min(room / natural[0], frame["height"] / natural[1])
    assert scale == pytest.approx(min(1, (room - 1) / natural[0]), abs=0.005)  # fitted to the width
    assert picture["height"] > 3 * frame["height"]  # readable, so it runs on below the box
    _keep(page, f"{slug}-{key}-{'390x844' if phone else '1400x900'}-opened")
    if not phone:
        assert scale >= 0.5
        page.mouse.move(frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
        page.mouse.wheel(0, 500)  # the wheel scrolls a view this tall
        page.wait_for_function(f"document.querySelector('{VIEWPORT}').scrollTop > 0")
        assert width(page) == picture["width"]
        page.keyboard.down("Control")  # Ctrl+wheel (and a touchpad's pinch) zooms it
        page.mouse.wheel(0, 200)
        page.keyboard.up("Control")
        settle(page)
        assert width(page) < picture["width"] * 0.9
    print(
        f"tallest view {slug}/{key} ({natural[0]}×{natural[1]} px, {height:.0f}): "
        f"opens at scale {scale:.3f} (fitting it whole would be {whole:.4f})"
    )


# -- dark mode, file://, errors, accessibility, screenshots ---------------------------------------------


def _current(page: Page, selector: str) -> list[str]:
    sources: list[str] = page.eval_on_selector_all(selector, "all => all.map((i) => i.currentSrc)")
    return sources


def test_dark_mode_reaches_every_picture_and_link(server: str, open_page: Opener) -> None:
    page = open_page(f"{server}/index.html", scheme="dark")
    load_every_image(page)
    thumbs = _current(page, ".card img.thumb")
    assert len(thumbs) == len(SPECS) and all(s.endswith("-dark.svg") for s in thumbs), thumbs
    assert broken_images(page) == []
    background: str = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert _luminance(background) < 0.1

    page = open_page(f"{server}/models/lstm.html", scheme="dark")
    assert _current(page, DIAGRAM) == [f"{server}/models/lstm/default-dark.svg"]
    assert _visible_links(page) == [f"{server}/models/lstm/default-dark.svg"]
    page.get_by_role("button", name="unrolled, 3 steps").click()
    assert _current(page, DIAGRAM) == [f"{server}/models/lstm/unrolled-dark.svg"]
    assert _visible_links(page) == [f"{server}/models/lstm/unrolled-dark.svg"]
    fitted = width(page)
    page.emulate_media(color_scheme="light")  # the system turns light: the picture follows
    page.wait_for_function(f"document.querySelector('{DIAGRAM}').currentSrc.endsWith('/unrolled.svg')")
    settle(page)
    assert _visible_links(page) == [f"{server}/models/lstm/unrolled.svg"]
    assert width(page) == pytest.approx(fitted, abs=1)

    page = open_page(f"{server}/index.html", scheme="light")
    load_every_image(page)
    assert not any(s.endswith("-dark.svg") for s in _current(page, ".card img.thumb"))


def _visible_links(page: Page) -> list[str]:
    links: list[str] = page.eval_on_selector_all(
        "figure.diagram:not([hidden]) figcaption a",
        "all => all.filter((a) => getComputedStyle(a).display !== 'none').map((a) => a.href)",
    )
    return links


def _luminance(colour: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def test_the_site_works_from_a_file_url(site: Path, open_page: Opener, cards: dict[str, Card]) -> None:
    index = (site / "index.html").as_uri()
    page = open_page(index)
    load_every_image(page)
    assert broken_images(page) == []
    page.locator("#filter").fill("recurrent")
    assert sorted(shown(page)) == expected(cards, "recurrent") and len(shown(page)) == counted(page)
    page = open_page(f"{index}#q=undirected")
    assert sorted(shown(page)) == expected(cards, "undirected") and len(shown(page)) == counted(page)
    page.locator(".card", has_text=cards["rbm"].name).first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/models/rbm.html")
    assert broken_images(page) == [] and width(page) > 100


def test_every_page_loads_every_file_without_an_error(site: Path, server: str, open_page: Opener) -> None:
    page = open_page(f"{server}/index.html")
    load_every_image(page)
    assert broken_images(page) == []
    for spec in SPECS:
        page.goto(f"{server}/models/{spec.stem}.html")
        page.wait_for_load_state("load")
        page.wait_for_function("[...document.images].every((i) => i.complete)")
        assert broken_images(page) == [], spec.stem
        assert width(page) > 50, spec.stem  # the first view is drawn at a size one can see
    # open_page's teardown: no console error, no script error, no failed or 4xx/5xx load


@pytest.mark.parametrize(
    ("path", "phone", "scheme"),
    [
        ("index.html", False, "light"),
        ("index.html", False, "dark"),
        ("index.html", True, "light"),
        ("models/lstm.html", False, "light"),
        ("models/lstm.html", False, "dark"),
        ("models/resnet50.html", True, "dark"),
    ],
)
def test_axe_finds_no_accessibility_violation(
    server: str, open_page: Opener, path: str, phone: bool, scheme: Literal["light", "dark"]
) -> None:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        require_browser()  # fails where the browser is required; else:
        pytest.skip("axe-playwright-python is not installed (pip install -e '.[test]')")
    page = open_page(f"{server}/{path}", phone=phone, scheme=scheme)
    if path == "index.html":
        load_every_image(page)
    results = Axe().run(page)
    print(
        f"axe on {path} ({'phone' if phone else 'desktop'}, {scheme}): {results.violations_count} violations"
    )
    assert results.violations_count == 0, results.generate_report()


SHOTS = ["index", "lstm", "resnet50", "gnmt", "esn"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("phone", [False, True], ids=["1400x900", "390x844"])
def test_screenshots(server: str, open_page: Opener, phone: bool, scheme: Literal["light", "dark"]) -> None:
    """Pictures of what a reader first sees, kept for people to look at (not compared)."""
    w, h = PHONE if phone else DESKTOP
    for name in SHOTS:
        url = f"{server}/index.html" if name == "index" else f"{server}/models/{name}.html"
        page = open_page(url, phone=phone, scheme=scheme)
        page.wait_for_function(
            "[...document.images].filter((i) => i.loading !== 'lazy').every((i) => i.complete)"
        )
        settle(page)
        _keep(page, f"{name}-{w}x{h}-{scheme}")
