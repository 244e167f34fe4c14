"""The command line: ``archdraw render``, ``validate``, ``info`` and ``schema``; the only module that prints.

Exit codes: 0 success, 1 a spec has errors, 2 usage error (bad option, missing file),
3 rendering or writing failed (no layout engine, engine error, unwritable output),
70 an internal error (a bug in archdraw).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import NoReturn

import click

from . import __version__
from .dot import to_dot
from .drawn import to_drawn
from .engine import ENGINES, find_engine, run_engine
from .errors import ArchdrawError, SpecError, format_diagnostic
from .info import to_info, to_text
from .ir import Diagnostic, Graph, printable
from .loader import MAX_STEPS, RANKDIRS, loads, read, spec_bytes
from .output import OutputError, check_not_input, write_atomic
from .passes import analyze
from .report import FORMATS as REPORT_FORMATS
from .report import FileReport, passed, to_github, to_json, to_sarif
from .source import decode
from .theme import THEMES
from .views import DEFAULT_MAX_NODES, DEFAULT_MAX_UNROLLED_NODES, View, ViewError, apply_view, check_view
from .watch import INTERVAL as WATCH_INTERVAL
from .watch import watch as watch_file

__all__ = ["EXIT_INTERNAL", "EXIT_RENDER", "EXIT_SPEC", "EXIT_USAGE", "cli", "main"]

EXIT_SPEC = 1
EXIT_USAGE = 2
EXIT_RENDER = 3
EXIT_INTERNAL = 70
OUTPUT_FORMATS = ("svg", "png", "pdf", "dot", "json")
SPEC_SUFFIXES = (".yaml", ".yml")


class _Exit(Exception):
    """Leave the command with an exit code; the message was already printed."""

    def __init__(self, code: int) -> None:
        self.code = code


def _source(path: Path) -> str | None:
    try:
        return decode(spec_bytes(path), path.as_posix())  # bounded: never all of /dev/zero
    except (OSError, ArchdrawError):
        return None


def _report(diagnostics: Sequence[Diagnostic], sources: dict[str, str | None]) -> None:
    for d in diagnostics:
        if d.span.path not in sources:
            sources[d.span.path] = _source(Path(d.span.path))
        click.echo(format_diagnostic(d, sources[d.span.path]), err=True)


def _analyze(path: Path) -> tuple[Graph | None, tuple[Diagnostic, ...]]:
    """The analysed graph (None when the spec has errors) and every diagnostic."""
    try:
        graph = analyze(read(path))
    except SpecError as exc:
        return None, exc.diagnostics
    refused = check_view(graph)  # what the spec's own view: asks for must be drawable
    if refused:
        return None, tuple(sorted((*graph.diagnostics, *refused)))
    return graph, graph.diagnostics


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"archdraw: error: {message}", err=True)
    raise _Exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="archdraw")
def cli() -> None:
    """Draw neural-network architectures from YAML specs.

    Recurrence, skip connections and bottlenecks are marked in the spec's graph and drawn so
    they can be told apart at a glance.
    """


@cli.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
    help="Output file, or - for standard output. [default: SPEC's name with the format's suffix, "
    "in the current directory]",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(OUTPUT_FORMATS),
    help="Output format. [default: from the output's suffix, else svg]",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="auto",
    show_default=True,
    help="Layout engine: Graphviz 'dot' on PATH, or the bundled graphviz-pure.",
)
@click.option(
    "--theme", type=click.Choice(tuple(THEMES)), help="Colour theme. [default: the spec's, else default]"
)
@click.option(
    "--rankdir", type=click.Choice(RANKDIRS), help="Layout direction. [default: the spec's, else TB]"
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds the layout engine may take.",
)
@click.option(
    "--depth",
    type=click.IntRange(min=1),
    help="Draw blocks from this depth down as single nodes (1: the top-level blocks).",
)
@click.option(
    "--expand",
    multiple=True,
    metavar="NAME",
    help="Open a block (its id, or a block name): never fold or collapse it. Repeatable.",
)
@click.option("--expand-repeats", is_flag=True, help="Draw every repetition instead of folding to ×N.")
@click.option(
    "--unroll",
    type=click.IntRange(min=0, max=MAX_STEPS),
    metavar="T",
    help="Draw T time steps one after another instead of delayed loops (0: rolled, whatever the spec says).",
)
@click.option(
    "--max-nodes",
    type=click.IntRange(min=1),
    help="Fold deeper blocks when a view would draw more nodes than this (an unrolled view: in "
    f"all its steps). [default: {DEFAULT_MAX_NODES}; unrolled, {DEFAULT_MAX_UNROLLED_NODES}]",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Render again whenever SPEC changes, reporting errors without stopping, until Ctrl-C.",
)
def render(
    spec: Path,
    output: Path | None,
    fmt: str | None,
    engine: str,
    theme: str | None,
    rankdir: str | None,
    timeout: float,
    depth: int | None,
    expand: tuple[str, ...],
    expand_repeats: bool,
    unroll: int | None,
    max_nodes: int | None,
    watch: bool,
) -> None:
    """Render SPEC as a diagram (svg, png, pdf), as DOT, or as JSON (the drawn view as data).

    By default repeats are folded to one copy marked ×N and, past --max-nodes, deeper blocks
    are drawn as single nodes; the spec's 'view:' section and the options here change that.
    """
    once = partial(
        _render_once,
        spec,
        output,
        fmt,
        engine,
        theme,
        rankdir,
        timeout,
        depth,
        expand,
        expand_repeats,
        unroll,
        max_nodes,
    )
    if not watch:
        once()
        return
    if output is not None and str(output) == "-":
        _fail("--watch writes a file, not standard output: give -o FILE", EXIT_USAGE)
    _watch(spec, once)


def _watch(
    spec: Path,
    render_once: Callable[[], None],
    *,
    stop: threading.Event | None = None,
    max_cycles: int | None = None,
    interval: float = WATCH_INTERVAL,
) -> None:
    """Render now and whenever the spec changes, reporting errors without stopping; Ctrl-C ends.

    One line per render: "wrote FILE", or the errors (an earlier output is kept). Ctrl-C
    exits with 130 and no message. ``stop`` and ``max_cycles`` end it in tests.
    """

    def once() -> None:
        try:
            render_once()
        except _Exit:
            pass  # the spec's (or the view's) errors are printed; the old output stays
        except ArchdrawError as exc:  # the engine failed, or the output cannot be written
            click.echo(f"archdraw: error: {exc}", err=True)

    def missing() -> None:
        click.echo(f"archdraw: {spec.as_posix()} is gone; waiting for it to come back", err=True)

    click.echo(f"archdraw: watching {spec.as_posix()} (Ctrl-C stops)", err=True)
    try:
        watch_file(spec, once, interval=interval, stop=stop, max_cycles=max_cycles, on_missing=missing)
    except KeyboardInterrupt:
        raise _Exit(130) from None


def _render_once(
    spec: Path,
    output: Path | None,
    fmt: str | None,
    engine: str,
    theme: str | None,
    rankdir: str | None,
    timeout: float,
    depth: int | None,
    expand: tuple[str, ...],
    expand_repeats: bool,
    unroll: int | None,
    max_nodes: int | None,
) -> None:
    """Render SPEC once (see :func:`render`); errors are printed and raised as :class:`_Exit`."""
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output is not None and str(output) != "-" else ""
        if suffix and suffix not in OUTPUT_FORMATS:
            _fail(
                f"cannot tell the format of {output.as_posix() if output else ''}: archdraw writes "
                f"{', '.join(OUTPUT_FORMATS)}; name the output with one of those suffixes or give -f",
                EXIT_USAGE,
            )
        fmt = suffix or "svg"
    graph, diagnostics = _analyze(spec)
    _report(diagnostics, {})
    if graph is None:
        raise _Exit(EXIT_SPEC)
    view = View.of(graph.view)
    view = replace(
        view,
        depth=depth if depth is not None else view.depth,
        expand=expand or view.expand,
        expand_repeats=expand_repeats or view.expand_repeats,
        unroll=unroll if unroll is not None else view.unroll,
        max_nodes=max_nodes if max_nodes is not None else view.max_nodes,
    )
    try:
        shown, notes = apply_view(graph, view)
    except ViewError as exc:
        _fail(str(exc), EXIT_USAGE)
    for note in notes:
        click.echo(f"archdraw: note: {note}", err=True)
    if fmt == "json":
        data = (json.dumps(to_drawn(shown, view, notes), indent=2, ensure_ascii=False) + "\n").encode()
    else:
        dot = to_dot(shown, theme=theme, rankdir=rankdir)
        if fmt == "dot":
            data = dot.encode()
        else:
            data = run_engine(dot, fmt, find_engine(engine), timeout=timeout, what=spec.as_posix())
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = output if output is not None else Path(f"{spec.stem}.{fmt}")
    check_not_input(target, [spec])
    write_atomic(target, data)
    click.echo(f"wrote {target.as_posix()}", err=True)


def _spec_files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in SPEC_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                # A link out of the directory (to ~/.netrc, say) is not read: its lines would
                # show in messages.
                and p.resolve().is_relative_to(path.resolve())
            )
            yield from found
        else:
            yield path


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Print only problems, not the summary.")
@click.option(
    "--execute",
    "run_numpy",
    is_flag=True,
    help="Also run each spec that checks cleanly with NumPy (small random weights, every dim at "
    "its example size) and report any node whose array shape differs from its inferred shape.",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default="text",
    show_default=True,
    help="text: path:line:col messages with the source line, on standard error. json, github "
    "(workflow commands that annotate a pull request) and sarif (2.1.0, for code scanning): one "
    "report on standard output, nothing else.",
)
@click.option("--strict", is_flag=True, help="Warnings fail the run too (exit 1).")
def validate(paths: tuple[Path, ...], quiet: bool, run_numpy: bool, fmt: str, strict: bool) -> None:
    """Check specs (files, or directories searched for *.yaml and *.yml).

    Every problem of every spec is printed as path:line:col: error: message. Exits 1 if any
    spec has errors (or, with --strict, warnings).
    """
    files = list(dict.fromkeys(_spec_files(paths)))
    if not files:
        _fail(f"no specs (*.yaml, *.yml) found in {', '.join(p.as_posix() for p in paths)}", EXIT_USAGE)
    reports: list[FileReport] = []
    sources: dict[str, str | None] = {}
    for path in files:
        graph, diagnostics = _analyze(path)
        if run_numpy and graph is not None and not any(d.is_error for d in diagnostics):
            from .execute import execute  # here, so that NumPy is imported only for --execute

            diagnostics = (*diagnostics, *execute(graph))
        if fmt == "text":
            _report(diagnostics, sources)
        reports.append(FileReport(path.as_posix(), tuple(diagnostics)))
    if fmt != "text":
        text = to_json(reports, strict) if fmt == "json" else to_github(reports) if fmt == "github" else None
        sys.stdout.write(to_sarif(reports) if text is None else text)
        sys.stdout.flush()
    elif not quiet:
        _summarize(reports, strict)
    if not passed(reports, strict):
        raise _Exit(EXIT_SPEC)


def _summarize(reports: Sequence[FileReport], strict: bool) -> None:
    """The closing line of ``validate``'s text output, on standard error."""
    errors = sum(r.errors for r in reports)
    warnings = sum(r.warnings for r in reports)
    failed = sum(1 for r in reports if r.errors)
    found = f"{_plural(errors, 'error')} in {_plural(failed, 'file')}" if errors else "no errors"
    if warnings:
        found += f", {_plural(warnings, 'warning')}" + (" (--strict: warnings fail)" if strict else "")
    click.echo(f"{_plural(len(reports), 'spec')} checked: {found}", err=True)


@cli.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the spec language, for editors.

    Save it (archdraw schema > archdraw.schema.json) and put
    '# yaml-language-server: $schema=archdraw.schema.json' at the top of a spec: the YAML
    language server then completes ops and attributes and flags unknown keys as you type.
    """
    from .schema import schema as spec_schema

    click.echo(json.dumps(spec_schema(), indent=2, ensure_ascii=False))


_DTYPES = ("float32", "float64", "int64", "int32")


@cli.command("import")
@click.argument("source")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The spec to write. [default: standard output]",
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="[NAME=]SHAPE",
    help="A PyTorch model's example input, such as 1x3x224x224 or tokens=1x128; once per input.",
)
@click.option(
    "--input-dtype",
    "dtypes",
    multiple=True,
    type=click.Choice(_DTYPES),
    help="The element type of each --input, in order (int64 for token ids); one applies to all."
    " [default: float32]",
)
@click.option(
    "--dim",
    "dims",
    multiple=True,
    metavar="NAME=SIZE",
    help="Name a size: input axes of that size are written with the name (--dim N=1 --dim T=128).",
)
@click.option("--name", help="The model's name in the spec. [default: the model's class or file name]")
def import_(
    source: str,
    output: Path | None,
    inputs: tuple[str, ...],
    dtypes: tuple[str, ...],
    dims: tuple[str, ...],
    name: str | None,
) -> None:
    """Write a spec for a model from another framework.

    SOURCE is an ONNX file (model.onnx), or a PyTorch model as MODULE:CALLABLE, a Python import
    path to a callable that returns an nn.Module (torchvision.models:resnet50), run once on
    zeros of each --input shape. The spec has a block for the modules of one class and
    'repeat:' for their runs; its parameter count is checked against the framework's.
    """
    from .frontends import ImportFailed, load_callable, parse_input, trace_onnx, trace_torch
    from .frontends.spec import write_spec

    named: dict[str, int] = {}
    for item in dims:
        key, _, value = item.partition("=")
        if not key.isidentifier() or not value.isdigit() or int(value) < 1:
            _fail(f"--dim {item!r}: write NAME=SIZE, such as N=1", EXIT_USAGE)
        named[key] = int(value)
    if output is not None:
        check_not_input(output, [Path(source)] if Path(source).exists() else [])
    try:
        if source.lower().endswith(".onnx"):
            if not Path(source).is_file():
                _fail(f"{source}: no such ONNX file", EXIT_USAGE)
            if inputs or dtypes:
                _fail(
                    "--input and --input-dtype are for PyTorch models: an ONNX file gives its own shapes",
                    EXIT_USAGE,
                )
            trace = trace_onnx(source, name=name or Path(source).stem)
        else:
            if not inputs:
                _fail(
                    f"{source}: give the model's example input shapes with --input"
                    " (such as --input 1x3x224x224)",
                    EXIT_USAGE,
                )
            if dtypes and len(dtypes) not in (1, len(inputs)):
                _fail(
                    f"{len(dtypes)} --input-dtype values for {len(inputs)} inputs:"
                    " give one, or one per input",
                    EXIT_USAGE,
                )
            shapes = [parse_input(text) for text in inputs]
            model = load_callable(source)
            import torch

            tensors = []
            for k, (_, shape) in enumerate(shapes):
                dtype = dtypes[0] if len(dtypes) == 1 else (dtypes[k] if dtypes else "float32")
                tensors.append(torch.zeros(shape, dtype=getattr(torch, dtype)))
            trace = trace_torch(model, tuple(tensors), name=name, input_names=[n for n, _ in shapes])
    except ImportFailed as exc:
        _fail(str(exc), EXIT_USAGE)
    trace.dims = named
    text = write_spec(trace)
    label = output.as_posix() if output is not None else "<import>"
    try:
        graph = analyze(loads(text, label))
    except SpecError as exc:
        _report(exc.diagnostics, {label: text})
        _fail(
            f"the spec written for {source} does not validate; it was not written (please report this)",
            EXIT_INTERNAL,
        )
    counted = graph.totals.params if graph.totals is not None else 0
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text.encode())
    custom = trace.custom()
    if custom:
        listed = ", ".join(f"{k} ({v})" for k, v in custom.items())
        click.echo(
            f"archdraw: warning: {sum(custom.values())} ops archdraw does not know"
            f" are custom boxes: {listed}",
            err=True,
        )
    for note in trace.notes:
        click.echo(f"archdraw: note: {note}", err=True)
    agree = "equal to" if counted == trace.params else "but"
    where = f"wrote {output.as_posix()}" if output is not None else "spec"
    click.echo(
        f"archdraw: {where}: {counted:,} parameters, {agree} {trace.source}'s {trace.params:,}",
        err=True,
    )


@cli.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the stable JSON contract (see docs/cli.md).")
def info(spec: Path, as_json: bool) -> None:
    """Describe SPEC: its nodes, edge kinds and roles."""
    graph, diagnostics = _analyze(spec)
    _report(diagnostics, {})
    if graph is None:
        raise _Exit(EXIT_SPEC)
    if as_json:
        click.echo(json.dumps(to_info(graph), indent=2, ensure_ascii=False))
    else:
        click.echo(to_text(graph), nl=False)


@cli.command()
@click.argument("spec_dirs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    "site",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The site directory to build (created if missing).",
)
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes. [default: all cores]")
@click.option(
    "--engine", type=click.Choice(ENGINES), default="auto", show_default=True, help="Layout engine."
)
@click.option(
    "--templates",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of templates that override the shipped ones (index.html, model.html, …).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds the layout engine may take per diagram.",
)
def gallery(
    spec_dirs: tuple[Path, ...],
    site: Path,
    jobs: int | None,
    engine: str,
    templates: Path | None,
    timeout: float,
) -> None:
    """Build a static site of every spec in SPEC_DIRS (files or directories).

    Specs render in parallel; unchanged specs are not rendered again. A broken spec gets an
    error page and the command exits 1 after building the rest.
    """
    from .gallery import GalleryError, build_gallery  # here: Jinja2 is imported only for galleries

    files = list(dict.fromkeys(_spec_files(spec_dirs)))
    if not files:
        _fail(f"no specs (*.yaml, *.yml) found in {', '.join(p.as_posix() for p in spec_dirs)}", EXIT_USAGE)
    start = time.perf_counter()
    try:
        if sys.stderr.isatty():
            with click.progressbar(length=len(files), label="rendering", file=sys.stderr) as bar:
                report = build_gallery(
                    files,
                    site,
                    jobs=jobs,
                    engine=engine,
                    templates=templates,
                    timeout=timeout,
                    progress=bar.update,
                )
        else:
            report = build_gallery(
                files, site, jobs=jobs, engine=engine, templates=templates, timeout=timeout
            )
    except GalleryError as exc:
        _fail(str(exc), EXIT_USAGE)
    seconds = time.perf_counter() - start
    for path in report.failed:
        click.echo(f"archdraw: error: {printable(path)} has errors; see its page", err=True)
    click.echo(
        f"{_plural(len(files), 'spec')}: {len(report.built)} rendered, {len(report.cached)} unchanged, "
        f"{len(report.failed)} with errors ({seconds:.2f} s). Open {(site / 'index.html').as_posix()}",
        err=True,
    )
    if report.failed:
        raise _Exit(EXIT_SPEC)


def _terminate_like_interrupt() -> None:
    """Make SIGTERM unwind like Ctrl-C, so half-written temporary files are removed."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def main(args: Sequence[str] | None = None) -> NoReturn:
    """Run the command line and exit; every error becomes a message and an exit code."""
    code = 0
    _terminate_like_interrupt()
    try:
        # standalone_mode=False returns --help's and --version's exit code instead of exiting.
        result = cli.main(args=args, prog_name="archdraw", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except _Exit as exc:
        code = exc.code
    except click.exceptions.Abort:
        click.echo("archdraw: interrupted", err=True)
        code = 130
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except OutputError as exc:
        click.echo(f"archdraw: error: {exc}", err=True)
        code = EXIT_RENDER
    except ArchdrawError as exc:
        click.echo(f"archdraw: error: {exc}", err=True)
        code = EXIT_RENDER
    except KeyboardInterrupt:
        click.echo("archdraw: interrupted", err=True)
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception as exc:
        if os.environ.get("ARCHDRAW_DEBUG"):
            raise
        click.echo(
            f"archdraw: internal error ({type(exc).__name__}: {exc}); this is a bug in archdraw, "
            "please report it with the spec (set ARCHDRAW_DEBUG=1 to see the traceback)",
            err=True,
        )
        code = EXIT_INTERNAL
    sys.exit(code)
