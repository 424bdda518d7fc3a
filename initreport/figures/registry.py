"""The figure registry and the one render path (builds and tests both use :func:`render`).

A figure kind is a function registered with :func:`register`; :func:`fingerprint` hashes what
its output can depend on, so a cache can re-render one kind when (and only when) its code
changes.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.style as mstyle
import numpy as np

from .. import fmt as _fmt_module
from ..cache import atomic_write
from ..errors import InitReportError, choice_error
from ..sourcehash import code_names
from . import style

FORMATS = ("svg", "png")


@dataclass(frozen=True)
class Figure:
    kind: str
    light: str      # file name relative to the figures dir
    dark: str
    alt: str        # what the figure shows, in one sentence
    caption: str    # what to look at
    # Narrow-screen files (kinds registered with phone=True; else None): the same figure laid out
    # 3.9 in wide, to be shown below ~600 px instead of light/dark.
    phone_light: str | None = None
    phone_dark: str | None = None


@dataclass(frozen=True)
class FigureKind:
    name: str
    fmt: str                                 # "svg" (line plots) or "png" (image-like, histogram-heavy)
    fn: Callable = field(repr=False)         # (exp, runs, pal) -> (fig, alt, caption)
    depends: tuple = ()                      # modules/functions outside the figures package it reads
    phone: bool = False                      # also drawn in a narrow-screen layout (pal["phone"] True)
    axis: bool = False                       # draws the depth axis (runs of roles AXIS_ROLES); other kinds
                                             # never see those runs


FIGURES: dict[str, FigureKind] = {}


# Runs that exist for the statistics, not for the figures: the depth axis's cells and their learning-rate
# selection (catalogue/axis.py), and learning-rate sweeps ("rates"). Only kinds registered with
# ``axis=True`` see the axis; no kind draws the sweeps.
AXIS_ROLES = ("axis", "selection", "rates")


def kind_runs(kind, runs: list) -> list:
    """The runs (``Run``, or ``(Run, result)`` pairs) a figure kind draws: without the depth axis's runs
    unless the kind draws the axis."""
    if get_kind(kind).axis:
        return list(runs)
    return [r for r in runs if (r[0] if isinstance(r, tuple) else r).role not in AXIS_ROLES]


def register(name: str, *, fmt: str = "svg", depends: tuple = (), phone: bool = False, axis: bool = False):
    """Register the decorated function as the figure kind ``name``, saved as ``fmt``.

    ``depends``: modules or functions whose source the figure's output depends on beyond what
    :func:`fingerprint` finds by itself (it follows the functions the kind calls).
    ``phone``: the kind lays itself out for a narrow screen when ``pal["phone"]`` is true, and
    :func:`render` also writes those files (``...--light--phone.<fmt>``, ``...--dark--phone.<fmt>``).
    """
    if fmt not in FORMATS:
        raise ValueError(f"figure format {fmt!r} for kind {name!r}: allowed are {', '.join(FORMATS)}")

    def decorate(fn: Callable) -> Callable:
        old = FIGURES.get(name)
        if old is not None and (old.fn.__module__, old.fn.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"figure kind {name!r} is registered twice: "
                             f"{old.fn.__module__}.{old.fn.__qualname__} and {fn.__module__}.{fn.__qualname__}")
        FIGURES[name] = FigureKind(name, fmt, fn, tuple(depends), bool(phone), bool(axis))
        return fn

    return decorate


def get_kind(kind) -> FigureKind:
    if isinstance(kind, FigureKind):
        return kind
    try:
        return FIGURES[kind]
    except (KeyError, TypeError):
        raise choice_error("figure kind", kind, FIGURES) from None


def file_name(exp_id: str, kind, variant: str, phone: bool = False) -> str:
    spec = get_kind(kind)
    return f"{exp_id}--{spec.name}--{variant}{'--phone' if phone else ''}.{spec.fmt}"


# ---------------------------------------------------------------------------------------
# Fingerprints

# Modules every kind shares; their whole source counts for every kind.
_SHARED = (style, _fmt_module)


def _module_source(module: types.ModuleType) -> bytes:
    return Path(module.__file__).read_bytes()


def _is_own(obj, home: str) -> bool:
    """Project code (the initreport package, or the kind's own module) not hashed whole as shared."""
    module = getattr(obj, "__module__", None) or getattr(obj, "__name__", "")
    shared = {m.__name__ for m in _SHARED} | {__name__}
    return (module.split(".")[0] == "initreport" or module == home) and module not in shared


def _own_function(value, home: str):
    """The project function behind ``value`` (unwrapping decorators such as lru_cache), or None."""
    inner = inspect.unwrap(value) if callable(value) else None
    return inner if isinstance(inner, types.FunctionType) and _is_own(inner, home) else None


def _data_repr(value, home: str, found: list) -> str | None:
    """A deterministic text for plain data (numbers, strings, containers of them), else None.

    Project functions inside the data (a table of generators, say) are named, and appended to
    ``found`` so that their source counts too.
    """
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return repr(value)
    if _own_function(value, home) is not None:
        found.append(value)
        return f"<function {value.__qualname__}>"
    if isinstance(value, Mapping):
        items = [(_data_repr(k, home, found), _data_repr(v, home, found)) for k, v in value.items()]
        if any(k is None or v is None for k, v in items):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if isinstance(value, (tuple, list, set, frozenset)):
        items = [_data_repr(v, home, found) for v in value]
        if None in items:
            return None
        if isinstance(value, (set, frozenset)):
            items = sorted(items)
        return f"{type(value).__name__}({', '.join(items)})"
    return None


def _closure(fn: Callable) -> list[str]:
    """Source of ``fn`` and of every project function it calls, transitively (not shared modules).

    Functions are found by the names their code uses (including ``module.function`` through a
    module imported into their globals); module-level plain data they read is included by value.
    Module names are not part of the text, so moving code between modules keeps the key.
    """
    home = fn.__module__
    pieces: dict[tuple, str] = {}
    todo = [fn]
    while todo:
        f = inspect.unwrap(todo.pop())
        if (f.__module__, f.__qualname__) in pieces:
            continue
        pieces[(f.__module__, f.__qualname__)] = f"{f.__qualname__}\n{inspect.getsource(f)}"
        scopes = [f.__globals__] + [vars(v) for v in f.__globals__.values()
                                    if isinstance(v, types.ModuleType) and _is_own(v, home)]
        for name in sorted(n for n in code_names(f.__code__) if not n.startswith("__")):
            for scope in scopes:
                value = scope.get(name)
                if _own_function(value, home) is not None:
                    todo.append(value)
                elif scope is f.__globals__ and name in scope:
                    text = _data_repr(value, home, todo)
                    if text is not None:
                        pieces[(f.__module__, ":" + name)] = f":{name}\n{text}"
    return sorted(pieces.values())


def fingerprint(kind) -> str:
    """SHA-256 of what one kind's output depends on, apart from its runs' results.

    Covers the kind's name and format, its function and the project functions it calls (and
    the plain data they read), the shared modules (:mod:`.style`, :mod:`initreport.fmt`,
    this registry), its declared ``depends`` and the matplotlib version. Another kind's code
    does not count.
    """
    spec = get_kind(kind)
    h = hashlib.sha256()
    h.update(f"kind {spec.name}\nformat {spec.fmt}\nmatplotlib {matplotlib.__version__}\n".encode())
    for module in (*_SHARED, inspect.getmodule(fingerprint)):
        h.update(b"\0" + module.__name__.encode() + b"\n" + _module_source(module))
    h.update(b"\0names\n" + style.names_fingerprint().encode())
    for dep in spec.depends:
        if isinstance(dep, types.ModuleType):
            h.update(b"\0" + dep.__name__.encode() + b"\n" + _module_source(dep))
        else:
            h.update("\0".join(_closure(dep)).encode())
    h.update("\0".join(_closure(spec.fn)).encode())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------
# Rendering


def _pairs(exp, runs) -> list:
    pairs = list(runs.items()) if isinstance(runs, Mapping) else list(runs)
    if not pairs:
        raise InitReportError(f"no results for experiment {exp.id!r}: a figure needs at least one run")
    return pairs


def _draw(spec: FigureKind, exp, runs: list, variant: str, phone: bool = False) -> tuple[bytes, str, str]:
    pal = dict(style.PALETTES[variant], phone=phone, width=style.PHONE_WIDTH_IN if phone else style.WIDTH_IN)
    with mstyle.context("default"), plt.rc_context(style.rc(pal)), np.errstate(all="ignore"), \
            style.figure_width(pal["width"]):
        fig, alt, caption = spec.fn(exp, runs, pal)
        style.plain_ticks(fig)
        try:
            buf = io.BytesIO()
            if spec.fmt == "svg":
                fig.savefig(buf, format="svg", metadata={"Date": None})
            else:
                fig.savefig(buf, format="png", dpi=style.PNG_DPI, metadata={"Software": None})
        finally:
            plt.close(fig)
    return buf.getvalue(), alt, caption


def render(kind, exp, runs, out_dir) -> Figure:
    """Draw one figure kind of an experiment, light and dark, into ``out_dir`` (atomic writes).

    ``runs``: ``[(Run, result dict), ...]`` in the experiment's order (or a ``{Run: result}``
    mapping). Only ``exp.id`` is read from the experiment.
    """
    spec = get_kind(kind)
    pairs = kind_runs(spec, _pairs(exp, runs))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names, texts = {}, []
    for phone in (False, True) if spec.phone else (False,):
        for variant in style.VARIANTS:
            data, alt, caption = _draw(spec, exp, pairs, variant, phone)
            texts.append((alt, caption))
            names[variant, phone] = file_name(exp.id, spec, variant, phone)
            atomic_write(out_dir / names[variant, phone], data)
    alt, caption = texts[0]         # the texts describe the data, the same in every layout
    return Figure(spec.name, names["light", False], names["dark", False], alt, caption,
                  names.get(("light", True)), names.get(("dark", True)))


def render_experiment(exp, runs, out_dir) -> list[Figure]:
    """Every figure kind the experiment lists (``exp.figures``), in that order, through :func:`render`."""
    for kind in exp.figures:
        get_kind(kind)                       # an unknown kind fails before anything is drawn
    if not exp.figures:
        return []
    pairs = _pairs(exp, runs)
    return [render(kind, exp, pairs, out_dir) for kind in exp.figures]
