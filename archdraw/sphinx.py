"""A Sphinx extension: the ``archdraw`` directive draws a spec as a figure when the docs are built.

In ``conf.py``::

    extensions = ["archdraw.sphinx"]
    archdraw_engine = "auto"      # or "dot", "bundled"
    archdraw_theme = None         # a theme for every diagram (default: each spec's own)

In a page::

    .. archdraw:: ../specs/lstm.yaml
       :unroll: 3
       :caption: An LSTM cell, three steps.

The path is relative to the page (or, starting with ``/``, to the source directory). Options:
``depth``, ``unroll``, ``max-nodes`` (integers), ``expand`` (block names, comma-separated),
``expand-repeats`` (a flag), ``theme``, ``rankdir``, ``caption``, ``alt``, ``width``,
``align``, ``class`` and ``name``. The spec is a dependency of the page: editing it rebuilds
the page. SVGs are cached under the doctree directory by a hash of the spec and the options, so
an unchanged spec is not laid out again. A spec with errors is reported at its
``path:line:col`` as an error of the page, so ``sphinx-build -W`` fails; its warnings are
Sphinx warnings.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, Final

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from . import __version__
from .engine import ENGINES, find_engine
from .errors import ArchdrawError, SpecError, format_diagnostic
from .ir import Diagnostic
from .loader import RANKDIRS, loads, spec_bytes
from .model import Model
from .output import write_atomic
from .source import decode
from .theme import THEMES
from .views import View

__all__ = ["ArchdrawDirective", "setup"]

CACHE_DIR: Final = "archdraw"
logger = logging.getLogger(__name__)


def _names(argument: str | None) -> tuple[str, ...]:
    return tuple(n for n in (argument or "").replace(",", " ").split() if n)


def _choice(values: tuple[str, ...]) -> Any:
    def check(argument: str) -> str:
        return str(directives.choice(argument, values))

    return check


def _display(path: Path) -> str:
    """How errors name the spec: relative to the current directory when it is below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return path.as_posix()
    return Path(relative).as_posix() if not relative.startswith("..") else path.as_posix()


def _diagnostics(diagnostics: tuple[Diagnostic, ...], source: str | None) -> str:
    return "\n".join(format_diagnostic(d, source) for d in diagnostics)


class ArchdrawDirective(SphinxDirective):
    """``.. archdraw:: SPEC``: the spec's diagram as an image, or a figure with a caption."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        "depth": directives.positive_int,
        "unroll": directives.positive_int,
        "max-nodes": directives.positive_int,
        "expand": _names,
        "expand-repeats": directives.flag,
        "theme": _choice(tuple(THEMES)),
        "rankdir": _choice(RANKDIRS),
        "caption": directives.unchanged,
        "alt": directives.unchanged,
        "width": directives.length_or_percentage_or_unitless,
        "align": _choice(("left", "center", "right")),
        "class": directives.class_option,
        "name": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        """Render the spec (or take it from the cache) and return the figure."""
        rel, absolute = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(rel)
        spec = Path(absolute)
        display = _display(spec)
        try:
            data = spec_bytes(spec)  # a regular file, at most 4 MiB: never all of a link to /dev/zero
        except SpecError as exc:
            raise self.error(f"{display}: {exc.errors[0].message}") from None
        source: str | None = None
        try:
            source = decode(data, display)
            model = Model(loads(source, display), spec)
        except SpecError as exc:
            raise self.error(_diagnostics(exc.diagnostics, source)) from None
        for warning in model.diagnostics:
            logger.warning(format_diagnostic(warning, None), location=(self.env.docname, self.lineno))
        image = self._image(model, data, display)
        return self._figure(image)

    def _view(self, model: Model) -> View:
        view = View.of(model.graph.view)
        return replace(
            view,
            depth=self.options.get("depth", view.depth),
            expand=tuple(self.options.get("expand", ())) or view.expand,
            expand_repeats="expand-repeats" in self.options or view.expand_repeats,
            unroll=self.options.get("unroll", view.unroll),
            max_nodes=self.options.get("max-nodes", view.max_nodes),
        )

    def _image(self, model: Model, data: bytes, display: str) -> nodes.image:
        view = self._view(model)
        theme = self.options.get("theme", self.config.archdraw_theme)
        rankdir = self.options.get("rankdir")
        try:
            engine = find_engine(self.config.archdraw_engine).kind
        except ArchdrawError as exc:
            raise self.error(f"{display}: {exc}") from None
        settings = "\0".join((__version__, repr(view), repr(theme), repr(rankdir), engine))
        key = hashlib.sha256(settings.encode() + b"\0" + data).hexdigest()[:20]
        cache = Path(self.env.doctreedir) / CACHE_DIR
        target = cache / f"{Path(self.arguments[0]).stem}-{key}.svg"
        if not target.is_file():
            try:
                svg = model.render(
                    "svg",
                    engine,
                    view=view,
                    theme=theme,
                    rankdir=rankdir,
                    timeout=float(self.config.archdraw_timeout),
                )
                cache.mkdir(parents=True, exist_ok=True)
                write_atomic(target, svg)
            except (ArchdrawError, ValueError) as exc:
                raise self.error(f"{display}: {exc}") from None
            logger.verbose("archdraw: rendered %s", target.name)
        # Image URIs are relative to the page; Sphinx copies the file into the build's images.
        page_dir = Path(self.env.doc2path(self.env.docname)).parent
        uri = Path(os.path.relpath(target, page_dir)).as_posix()
        image = nodes.image(uri=uri, alt=self.options.get("alt", model.name))
        if "width" in self.options:
            image["width"] = self.options["width"]
        if "align" in self.options and "caption" not in self.options:
            image["align"] = self.options["align"]  # with a caption, the figure is aligned
        image["classes"] += self.options.get("class", [])
        return image

    def _figure(self, image: nodes.image) -> list[nodes.Node]:
        caption = self.options.get("caption")
        if not caption:
            self.add_name(image)
            return [image]
        figure = nodes.figure("", image)
        if "align" in self.options:
            figure["align"] = self.options["align"]
        text, messages = self.parse_inline(caption, lineno=self.lineno)
        node = nodes.caption(caption, "", *text)
        node.source, node.line = self.get_source_info()
        figure += node
        self.add_name(figure)
        return [figure, *messages]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive and its settings (``archdraw_engine``, ``_theme``, ``_timeout``)."""
    app.add_config_value("archdraw_engine", "auto", "env", types=(str,))
    app.add_config_value("archdraw_theme", None, "env", types=(str, type(None)))
    app.add_config_value("archdraw_timeout", 60.0, "env", types=(float, int))
    app.add_directive("archdraw", ArchdrawDirective)
    app.connect("config-inited", _check_config)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}


def _check_config(app: Sphinx, config: Any) -> None:
    from sphinx.errors import ConfigError

    if config.archdraw_engine not in ENGINES:
        raise ConfigError(
            f"archdraw_engine must be one of {', '.join(ENGINES)}, not {config.archdraw_engine!r}"
        )
    if config.archdraw_theme is not None and config.archdraw_theme not in THEMES:
        raise ConfigError(f"archdraw_theme must be one of {', '.join(THEMES)}, not {config.archdraw_theme!r}")
