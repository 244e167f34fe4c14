"""The gallery: many specs rendered in parallel, and cached, into a static site that works offline.

``build_gallery(specs, site)`` analyses every spec, renders its views (the default one; an
unrolled one for recurrent models; stages and every layer for deep ones), each in the light
theme and, for specs drawn in the default theme, the dark one, and writes a page per model and
an index grouped by family. Each model's badges (recurrent, skip, bottleneck, …) are read from
its analysed graph, never from the spec's text. Work is split across processes; a content hash
of the spec, archdraw's version, the engine's version, the options and the templates lets an
unchanged spec be skipped. A broken spec gets an error page and does not stop the others.
Every file is written atomically, only when its bytes change, and only inside the site directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from . import __version__
from .dot import to_dot
from .engine import end_engines, engine_version, find_engine, run_engine
from .errors import ArchdrawError, SpecError, format_diagnostic
from .info import to_info
from .ir import EdgeKind, Graph, Role, format_shape
from .loader import read, spec_bytes
from .output import OutputError
from .passes import analyze
from .site import Site, SiteError, open_site
from .source import decode
from .views import View, apply_view, check_view

__all__ = [
    "BADGES",
    "Badge",
    "GalleryError",
    "GalleryReport",
    "ModelPage",
    "badges",
    "build_gallery",
    "default_templates",
    "visible",
]

CACHE_DIR = ".archdraw-cache"
EXPANDED_LIMIT = 400  # draw "every layer" only for models up to this many nodes
ASSETS = ("archdraw.css", "archdraw.js", "favicon.svg")


class GalleryError(ArchdrawError, ValueError):
    """The gallery cannot be built as asked (the message says why)."""


@dataclass(frozen=True)
class ViewImage:
    """One rendered view of a model."""

    key: str
    title: str
    svg: str
    dark_svg: str = ""


# Every badge: what it reads and what one and many of what it counts are called, in card order.
BADGES: dict[str, tuple[str, str, str]] = {
    "recurrent": ("recurrent", "recurrent edge", "recurrent edges"),
    "skip": ("skip", "skip connection", "skip connections"),
    "bottleneck": ("bottleneck", "bottleneck", "bottlenecks"),
    "gradient": ("gradient", "gradient path", "gradient paths"),
    "undirected": ("undirected", "undirected link", "undirected links"),
    "tied": ("tied weights", "tied pair of layers", "tied pairs of layers"),
    "memory": ("memory", "memory", "memories"),
    "fixed": ("fixed weights", "fixed parameter", "fixed parameters"),
}


@dataclass(frozen=True)
class Badge:
    """One thing a model shows, as its card and page say it: read from the analysed graph."""

    key: str  # the word the index's filter finds it by, and its colour's name: "recurrent", …
    label: str  # what the badge reads
    title: str  # what it counts: "4 recurrent edges"


@dataclass(frozen=True)
class ModelPage:
    """Everything a model's page shows; plain data, so it crosses process boundaries."""

    slug: str
    path: str
    name: str
    family: str
    summary: str
    reference_title: str
    reference_url: str
    source: str
    views: tuple[ViewImage, ...] = ()
    layers: tuple[dict[str, Any], ...] = ()
    params: int | None = None
    fixed: int = 0
    macs: int | None = None
    nodes: int = 0
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    badges: tuple[Badge, ...] = ()


@dataclass
class GalleryReport:
    """What a build did."""

    built: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def default_templates() -> Path:
    """The templates shipped with archdraw."""
    return Path(str(resources.files("archdraw.templates")))


def visible(text: str) -> str:
    r"""``text`` with every invisible or text-reordering character shown as ``<U+202E>``.

    A spec's source is shown as written, so a bidi override or a zero-width space in a comment
    or a quoted string would make the page show other code than the file holds (Trojan Source).
    Tabs and line breaks stay.

    >>> visible("a\u202eb\u200bc\x1b")
    'a<U+202E>b<U+200B>c<U+001B>'
    """
    return "".join(
        f"<U+{ord(ch):04X}>"
        if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
        else ch
        for ch in text
    )


def _safe_url(url: str) -> str:
    """Only http(s) links reach a page."""
    trimmed = url.strip()
    return trimmed if trimmed.lower().startswith(("http://", "https://")) else ""


def _slugs(paths: Sequence[Path]) -> list[str]:
    """File-system-safe, unique page names in the order of ``paths``."""
    taken: set[str] = set()
    out: list[str] = []
    for path in paths:
        base = re.sub(r"[^a-z0-9_-]+", "-", path.stem.lower()).strip("-") or "spec"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        out.append(slug)
    return out


def badges(graph: Graph) -> tuple[Badge, ...]:
    """What ``graph`` (analysed) shows beyond plain data flow, in a fixed order.

    Recurrence, skips, gradient paths, undirected links and tied weights are its edges' kinds;
    bottlenecks and memories are its nodes' roles; fixed weights are parameters it does not train.

    >>> from archdraw.loader import loads
    >>> from archdraw.passes import analyze
    >>> esn = analyze(loads('''archdraw: 1
    ... name: esn
    ... dims: {N: 1}
    ... inputs: {u: {shape: [N, 10]}}
    ... layers:
    ...   reservoir: {op: dense, in: [u, {from: reservoir, delay: 1}], units: 50, trainable: false}
    ...   readout: {op: dense, in: reservoir, units: 2}
    ... '''))
    >>> [(b.key, b.title) for b in badges(esn)]
    [('recurrent', '1 recurrent edge'), ('fixed', '3,050 fixed parameters')]
    """
    edges = {kind: sum(1 for e in graph.edges if e.kind is kind) for kind in EdgeKind}
    roles = {role: sum(1 for n in graph.nodes if role in n.roles) for role in Role}
    counts = {
        "recurrent": edges[EdgeKind.RECURRENT],
        "skip": edges[EdgeKind.SKIP],
        "bottleneck": roles[Role.BOTTLENECK],
        "gradient": edges[EdgeKind.GRADIENT],
        "undirected": edges[EdgeKind.UNDIRECTED],
        "tied": edges[EdgeKind.TIED],
        "memory": roles[Role.MEMORY],
        "fixed": graph.totals.fixed if graph.totals else 0,
    }
    return tuple(
        Badge(key, label, f"{counts[key]:,} {one if counts[key] == 1 else many}")
        for key, (label, one, many) in BADGES.items()
        if counts[key]
    )


def _views(graph: Graph) -> list[tuple[str, str, View]]:
    """The views a model's page shows: (key, title, view)."""
    default = View.of(graph.view)
    chosen = [("default", "overview", default)]
    if any(e.kind is EdgeKind.RECURRENT and e.axis == "time" for e in graph.edges) and not default.unroll:
        chosen.append(("unrolled", "unrolled, 3 steps", View(unroll=3)))
    if graph.clusters:
        shown, _ = apply_view(graph, default)
        stages, _ = apply_view(graph, View(depth=1))
        if len(stages.nodes) < len(shown.nodes):
            chosen.append(("stages", "top-level blocks", View(depth=1)))
        if len(graph.nodes) <= EXPANDED_LIMIT and len(graph.nodes) > len(shown.nodes):
            chosen.append(("expanded", "every layer", View(expand_repeats=True, max_nodes=EXPANDED_LIMIT)))
    return chosen


def render_model(path: str, slug: str, engine_kind: str, timeout: float) -> ModelPage:
    """Analyse and render one spec (runs in a worker process)."""
    spec = Path(path)
    try:
        source = decode(spec_bytes(spec), path)  # bounded: never a device or a huge file
    except SpecError as exc:
        return ModelPage(slug, path, spec.stem, "", "", "", "", "", errors=(str(exc),))
    try:
        graph = analyze(read(spec))
        refused = check_view(graph)
        if refused:
            raise SpecError([*graph.diagnostics, *refused])
    except SpecError as exc:
        errors = tuple(format_diagnostic(d, source) for d in exc.diagnostics)
        return ModelPage(slug, path, spec.stem, "", "", "", "", source, errors=errors)
    engine = find_engine(engine_kind)
    views: list[ViewImage] = []
    try:
        for key, title, view in _views(graph):
            shown, _ = apply_view(graph, view)
            svg = run_engine(to_dot(shown), "svg", engine, timeout=timeout, what=path).decode("utf-8")
            dark = ""
            if graph.style.theme == "default":  # a spec that chose its theme keeps it
                dark = run_engine(
                    to_dot(shown, theme="dark"), "svg", engine, timeout=timeout, what=path
                ).decode("utf-8")
            views.append(ViewImage(key, title, svg, dark))
    except ArchdrawError as exc:
        return ModelPage(
            slug, path, graph.name, graph.family, graph.summary, "", "", source, errors=(str(exc),)
        )
    info = to_info(graph)
    layers = tuple(
        {
            "id": n["id"],
            "op": n["op"],
            "label": n["label"],
            "shape": format_shape(node.shape) if (node := graph.node(n["id"])).shape is not None else "",
            "params": n["params"],
            "macs": n["macs"],
            "role": n["role"] or "",
        }
        for n in info["nodes"]
    )
    reference = graph.reference
    totals = graph.totals
    return ModelPage(
        slug=slug,
        path=path,
        name=graph.name or spec.stem,
        family=graph.family,
        summary=graph.summary,
        reference_title=reference.title if reference else "",
        reference_url=_safe_url(reference.url) if reference else "",
        source=source,
        views=tuple(views),
        layers=layers,
        params=totals.params if totals else None,
        fixed=totals.fixed if totals else 0,
        macs=totals.macs if totals else None,
        nodes=len(graph.nodes),
        warnings=tuple(str(d) for d in graph.diagnostics),
        badges=badges(graph),
    )


def _spec_key(spec: Path) -> bytes:
    """What a spec's cache key is made of: its (bounded) bytes, or the reason it cannot be read."""
    try:
        return spec_bytes(spec)
    except SpecError as exc:
        return str(exc).encode("utf-8")


def _hash(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def _template_hash(folders: Iterable[Path]) -> str:
    parts: list[bytes | str] = []
    for folder in folders:
        for file in sorted(folder.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts:
                parts += [file.relative_to(folder).as_posix(), file.read_bytes()]
    return _hash(*parts)


def _environment(templates: Path | None) -> Any:
    import jinja2  # here: only the gallery needs it

    folders = [templates] if templates is not None else []
    folders.append(default_templates())
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(f)) for f in folders]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["count"] = lambda n: "—" if n is None else f"{n:,}"
    env.filters["visible"] = visible
    return env, folders


def build_gallery(
    specs: Sequence[Path],
    site: Path,
    *,
    jobs: int | None = None,
    engine: str = "auto",
    templates: Path | None = None,
    timeout: float = 60.0,
    progress: Callable[[int], None] | None = None,
) -> GalleryReport:
    """Build (or update) the gallery of ``specs`` in ``site``; see the module docstring."""
    site = site.resolve()
    specs = sorted(dict.fromkeys(p.resolve() for p in specs))
    if not specs:
        raise GalleryError("no specs to build a gallery of")
    for spec in specs:
        if site == spec or site in spec.parents:
            raise GalleryError(f"the site directory {site} holds a spec ({spec}); choose another output")
    if templates is not None and not templates.is_dir():
        raise GalleryError(f"templates directory {templates} does not exist")
    chosen = find_engine(engine)
    env, folders = _environment(templates)
    cwd = Path.cwd()
    paths = [p.relative_to(cwd).as_posix() if cwd in p.parents else p.as_posix() for p in specs]
    slugs = _slugs([Path(p) for p in paths])
    options = _hash(__version__, engine_version(chosen), chosen.kind, _template_hash(folders), str(timeout))
    try:
        with open_site(site) as files:
            return _build(
                files, env, folders, paths, slugs, specs, options, chosen.kind, jobs, timeout, progress
            )
    except SiteError as exc:
        raise GalleryError(str(exc)) from None


def _build(
    site: Site,
    env: Any,
    folders: list[Path],
    paths: list[str],
    slugs: list[str],
    specs: list[Path],
    options: str,
    engine: str,
    jobs: int | None,
    timeout: float,
    progress: Callable[[int], None] | None,
) -> GalleryReport:
    # Everything whose name is known before rendering is checked first: a build that would
    # replace a file archdraw did not write stops before it writes anything.
    site.check(
        [
            "index.html",
            *(f"assets/{asset}" for asset in ASSETS),
            *(f"models/{slug}.html" for slug in slugs),
            *(f"{CACHE_DIR}/{slug}.json" for slug in slugs),
        ]
    )
    report = GalleryReport()
    pages: dict[str, ModelPage] = {}
    todo: list[tuple[str, str, str]] = []
    for path, slug, spec in zip(paths, slugs, specs, strict=True):
        key = _hash(options, path, _spec_key(spec))
        cached = _load_cached(site, slug, key)
        if cached is not None:
            pages[slug] = cached
            report.cached.append(path)
            if progress:
                progress(1)
        else:
            todo.append((path, slug, key))
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    keys = {slug: key for _, slug, key in todo}

    def finish(page: ModelPage) -> None:  # in this process, while the workers render others
        pages[page.slug] = page
        _write_model(site, env, page)
        if not page.errors:
            _store_cached(site, page.slug, keys[page.slug], page)
        if progress:
            progress(1)

    if workers == 1:
        for path, slug, _ in todo:
            finish(render_model(path, slug, engine, timeout))
    else:
        # Largest specs first, so no long one starts last and leaves the other workers idle.
        ordered_todo = sorted(todo, key=lambda t: -_size(t[0]))
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_signals)
        futures: list[Future[ModelPage]] = []
        try:
            for path, slug, _ in ordered_todo:
                futures.append(pool.submit(render_model, path, slug, engine, timeout))
            for future in as_completed(futures):
                finish(future.result())
        except BaseException:
            _stop(pool)  # Ctrl-C, SIGTERM or an error: no worker goes on rendering
            raise
        pool.shutdown()
    for path, slug, _ in todo:
        (report.failed if pages[slug].errors else report.built).append(path)
    ordered = [pages[s] for s in slugs]
    _write_index(site, env, ordered)
    for asset in ASSETS:
        for folder in folders:
            if (folder / asset).is_file():
                site.write(f"assets/{asset}", (folder / asset).read_bytes())
                break
    for page in ordered:  # a cached page's files are this build's too
        site.written.update(_model_files(page))
        if not page.errors:
            site.written.add(f"{CACHE_DIR}/{page.slug}.json")
    site.finish()
    return report


def _worker_signals() -> None:
    """In a worker: SIGTERM ends the layout engine it runs, then the worker, at once and quietly.

    Ctrl-C reaches the workers too (they are in the terminal's process group); the build itself
    decides what happens then, so the workers leave it to it.
    """

    def stop(signum: int, frame: object) -> None:
        end_engines()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the workers now, engines and all: what they were rendering and what waits is dropped.

    The futures are not cancelled one by one: the pool marks them failed when its workers end
    (cancelling them as well makes Python 3.11's pool thread fail on them).
    """
    # The pool's own list of its worker processes (no public one before Python 3.14).
    workers = list((getattr(pool, "_processes", None) or {}).values())
    for process in workers:
        process.terminate()  # SIGTERM: the worker unwinds and ends its engine
    for process in workers:
        process.join(2)
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _page_views(page: ModelPage) -> list[dict[str, str]]:
    return [
        {
            "key": v.key,
            "title": v.title,
            "src": f"{page.slug}/{v.key}.svg",
            "dark": f"{page.slug}/{v.key}-dark.svg" if v.dark_svg else "",
        }
        for v in page.views
    ]


def _model_files(page: ModelPage) -> list[str]:
    """The files of a model's page, as named inside the site."""
    files = [f"models/{page.slug}.html"]
    for view in page.views:
        files.append(f"models/{page.slug}/{view.key}.svg")
        if view.dark_svg:
            files.append(f"models/{page.slug}/{view.key}-dark.svg")
    return files


def _write_model(site: Site, env: Any, page: ModelPage) -> None:
    site.claim(_model_files(page))
    for view in page.views:
        site.write(f"models/{page.slug}/{view.key}.svg", view.svg.encode("utf-8"))
        if view.dark_svg:
            site.write(f"models/{page.slug}/{view.key}-dark.svg", view.dark_svg.encode("utf-8"))
    text = env.get_template("model.html").render(page=page, views=_page_views(page), version=__version__)
    site.write(f"models/{page.slug}.html", text.encode("utf-8"))


def _write_index(site: Site, env: Any, pages: list[ModelPage]) -> None:
    families: dict[str, list[ModelPage]] = {}
    for page in pages:
        families.setdefault(page.family or ("broken specs" if page.errors else "other"), []).append(page)
    groups = sorted(families.items(), key=lambda item: (item[0] in ("other", "broken specs"), item[0]))
    text = env.get_template("index.html").render(
        groups=groups,
        count=len(pages),
        failed=sum(1 for p in pages if p.errors),
        version=__version__,
        thumb=_thumbnail,
        thumb_dark=_thumbnail_dark,
        features=[  # the badges some model has, for the index's buttons
            Badge(key, label, "")
            for key, (label, _, _) in BADGES.items()
            if any(b.key == key for p in pages for b in p.badges)
        ],
    )
    site.write("index.html", text.encode("utf-8"))


def _thumbnail_view(page: ModelPage) -> ViewImage | None:
    """The view on a model's card: its top-level blocks for deep models, else its overview."""
    views = {v.key: v for v in page.views}
    return views.get("stages") or views.get("default")


def _thumbnail(page: ModelPage) -> str:
    """The picture on a model's card ("" for a broken spec)."""
    view = _thumbnail_view(page)
    return f"models/{page.slug}/{view.key}.svg" if view else ""


def _thumbnail_dark(page: ModelPage) -> str:
    """The card's picture in the dark theme ("" when there is none)."""
    view = _thumbnail_view(page)
    return f"models/{page.slug}/{view.key}-dark.svg" if view and view.dark_svg else ""


def _store_cached(site: Site, slug: str, key: str, page: ModelPage) -> None:
    data = asdict(page)
    data["views"] = [{"key": v.key, "title": v.title, "dark": bool(v.dark_svg)} for v in page.views]
    try:
        site.write(
            f"{CACHE_DIR}/{slug}.json", json.dumps({"key": key, "page": data}, sort_keys=True).encode()
        )
    except OutputError:
        pass  # a cache that cannot be written only costs time


def _load_cached(site: Site, slug: str, key: str) -> ModelPage | None:
    """A model page from the cache, if its key matches and its files are all there (archdraw's)."""
    raw = site.read(f"{CACHE_DIR}/{slug}.json")
    if raw is None:
        return None
    try:
        stored = json.loads(raw.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    try:
        return _cached_page(site, slug, stored["page"])
    except (KeyError, TypeError, ValueError):
        return None  # written by another version of this module: render again


def _cached_page(site: Site, slug: str, data: dict[str, Any]) -> ModelPage | None:
    views = []
    for v in data.pop("views"):
        if not site.is_file(f"models/{slug}/{v['key']}.svg") or (
            v["dark"] and not site.is_file(f"models/{slug}/{v['key']}-dark.svg")
        ):
            return None
        # The files are there and current; the index needs only their names.
        views.append(ViewImage(v["key"], v["title"], "", "dark" if v["dark"] else ""))
    if not site.is_file(f"models/{slug}.html"):
        return None
    for name in ("layers", "errors", "warnings"):
        data[name] = tuple(data[name])
    data["badges"] = tuple(Badge(**b) for b in data["badges"])
    return ModelPage(views=tuple(views), **data)
