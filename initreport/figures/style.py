"""The shared look and helpers of every figure kind: palettes, rcParams, layout, run styles.

Everything here is part of every kind's :func:`~initreport.figures.registry.fingerprint`, so a
change in this module re-renders every figure.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .. import activations, initializers  # noqa: E402


HASH_SALT = "initreport"
WIDTH_IN = 7.0          # a ~700 px content column at 100 dpi
PHONE_WIDTH_IN = 3.9    # the narrow-screen layout, shown ~390 px wide: 9.5 pt text stays ~13 px there
SVG_DPI = 100
PNG_DPI = 150           # crisp on high-density screens, shown at 700 px
VARIANTS = ("light", "dark")

# ---------------------------------------------------------------------------------------
# Palettes

# Okabe & Ito (2008), colour-blind safe; black swaps to a light grey on the dark background.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "{fg}", "#F0E442")
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

PALETTES = {
    # Material's default scheme is white; slate is about #1e2129. Figures are transparent,
    # text and axes take the page's contrast colour.
    "light": {"fg": "#222222", "muted": "#5f6368", "grid": "#dcdcdc", "bg": "#ffffff",
              "cmap_range": (0.0, 0.85), "black": "#000000"},
    "dark": {"fg": "#e2e4e9", "muted": "#a4a9b4", "grid": "#3b404c", "bg": "#1e2129",
             "cmap_range": (0.18, 1.0), "black": "#e2e4e9"},
}


def colours(pal: dict) -> list[str]:
    return [c.format(fg=pal["black"]) for c in OKABE_ITO]


def rc(pal: dict) -> dict:
    """Every rcParam a figure depends on (applied over matplotlib's defaults for each figure)."""
    fg, muted = pal["fg"], pal["muted"]
    return {
        "svg.hashsalt": HASH_SALT, "svg.fonttype": "path", "path.simplify": True,
        "font.size": 9.5, "axes.titlesize": 10, "axes.labelsize": 9.5, "xtick.labelsize": 9,
        "ytick.labelsize": 9, "legend.fontsize": 9, "figure.titlesize": 10.5,
        "text.color": fg, "axes.labelcolor": fg, "axes.edgecolor": muted, "axes.titlecolor": fg,
        "xtick.color": muted, "ytick.color": muted, "xtick.labelcolor": fg, "ytick.labelcolor": fg,
        "axes.facecolor": "none", "figure.facecolor": "none", "savefig.facecolor": "none",
        "savefig.transparent": True, "axes.grid": True, "grid.color": pal["grid"], "grid.linewidth": 0.6,
        "axes.spines.top": False, "axes.spines.right": False, "axes.axisbelow": True,
        "legend.frameon": False, "lines.linewidth": 1.8, "lines.markersize": 4.5,
        "axes.prop_cycle": matplotlib.cycler(color=colours(pal)),
        "axes.formatter.use_mathtext": True, "axes.unicode_minus": True,
        "figure.dpi": SVG_DPI, "svg.image_inline": True,
    }


def layer_cmap(pal: dict):
    lo, hi = pal["cmap_range"]
    base = plt.get_cmap("viridis")
    return mcolors.LinearSegmentedColormap.from_list(
        f"viridis_{lo}_{hi}", base(np.linspace(lo, hi, 256)))


# ---------------------------------------------------------------------------------------
# Reading results (never returns None/NaN to a plot call)

def mean(stat) -> float:
    if not stat or stat.get("mean") is None:
        return math.nan
    return float(stat["mean"])


def get(stat, key: str) -> float:
    if not stat or stat.get(key) is None:
        return math.nan
    return float(stat[key])


def finite(xs, ys, positive: bool = False):
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    ok = np.isfinite(ys) & np.isfinite(xs)
    if positive:
        ok &= ys > 0
    return xs[ok], ys[ok]


# ---------------------------------------------------------------------------------------
# Display names (display only: figure code never selects or groups runs by text)

_KNOBS = ("depth ", "gain ", "width ", "bias ")


def _display(word: str) -> str | None:
    """A registry name's display name: initialisers and activations from their registries."""
    if word in initializers.INITIALIZERS:
        return initializers.display_name(word)
    if word in activations.ACTIVATIONS:
        return activations.display_name(word)
    return None


def names_fingerprint() -> str:
    """The display-name tables :func:`pretty` reads (they live outside this module): part of every
    kind's fingerprint, so renaming an initialiser re-renders the figures that show it."""
    return repr((sorted(initializers.DISPLAY.items()), sorted(activations.DISPLAY.items())))


def pretty(text: str) -> str:
    """Display text for a legend or title: 'he_normal, relu' → 'He normal, ReLU'.

    Registry names of initialisers and activations in a run's label or a config value are
    shown by their display names (the registries' ``display_name``, as on the pages; datasets
    and other words with spaces for underscores) and 'depth 30' as 'depth = 30'. The result
    is only ever shown; no figure selects or groups runs by it (they use ``run.config`` and ``run.role``).
    """
    out = []
    for p in (p.strip() for p in str(text).split(",")):
        if (name := _display(p)) is not None:
            out.append(name)
        elif p.startswith(_KNOBS) and " = " not in p:
            out.append(p.replace(" ", " = ", 1))
        else:
            out.append(p.replace("_", " "))
    return ", ".join(out)


# ---------------------------------------------------------------------------------------
# Run styles: colour and line style from what the runs are


_INIT_FIELDS = ("init", "init_params", "bias")


def _init_key(config) -> tuple:
    return tuple(getattr(config, f) for f in _INIT_FIELDS)


def _rest_key(config) -> tuple:
    return tuple(getattr(config, f.name) for f in dataclasses.fields(config) if f.name not in _INIT_FIELDS)


def run_styles(runs) -> list[tuple[int, str, str]]:
    """(colour index, line style, marker) per run, in run order.

    When the runs differ both in their initialiser and in something else (activation, width,
    ...), one colour per initialiser and one line style per the rest, when that fits the
    palette (or the other way round); otherwise one colour per run.
    """
    configs = [run.config for run, _ in runs]
    heads = [_init_key(c) for c in configs]
    tails = [_rest_key(c) for c in configs]
    uh, ut = list(dict.fromkeys(heads)), list(dict.fromkeys(tails))
    if len(configs) > 1 and len(uh) > 1 and len(ut) > 1:
        if len(uh) <= 8 and len(ut) <= 4:
            return [(uh.index(h), LINESTYLES[ut.index(t)], MARKERS[ut.index(t)]) for h, t in zip(heads, tails)]
        if len(ut) <= 8 and len(uh) <= 4:
            return [(ut.index(t), LINESTYLES[uh.index(h)], MARKERS[uh.index(h)]) for h, t in zip(heads, tails)]
    # One colour per run; line styles also vary so that runs lying on top of each other stay visible.
    return [(i % 8, LINESTYLES[i % 4], MARKERS[i % 8]) for i in range(len(configs))]


def diverged_text(runs) -> str:
    parts = []
    for run, r in runs:
        if r["diverged"]:
            seeds = ", ".join(f"seed {d['seed']} at epoch {d['epoch']}" for d in r["diverged"])
            parts.append(f"{pretty(run.label)}: {len(r['diverged'])} of {r['n_seeds']} seeds diverged ({seeds})")
    return ("Diverged (NaN/Inf, not plotted): " + "; ".join(parts) + ".") if parts else ""


# ---------------------------------------------------------------------------------------
# Layout


def wrap(text: str, ncols: int) -> str:
    """A panel title broken to fit a panel of the figure (7 in, or the narrow layout) with ncols columns."""
    width = {1: 70, 2: 40, 3: 27, 4: 19}.get(ncols, 16)
    if narrow():
        width = {1: 38, 2: 19}.get(ncols, 12)
    return textwrap.fill(text, width=width, break_long_words=False)


_WIDTH = contextvars.ContextVar("figure_width", default=WIDTH_IN)


@contextlib.contextmanager
def figure_width(width: float):
    """Within: :func:`new_fig` and :func:`legend_below` lay figures out ``width`` inches wide."""
    token = _WIDTH.set(width)
    try:
        yield
    finally:
        _WIDTH.reset(token)


def fig_width() -> float:
    return _WIDTH.get()


def narrow() -> bool:
    """True while the narrow-screen (phone) layout is drawn."""
    return _WIDTH.get() < 5


def legend_below(fig, handles, labels, ncol=None):
    if not handles:
        return
    longest = max(len(s) for s in labels)
    if narrow():
        ncol = 1 if longest > 16 else min(len(handles), 2)
    ncol = ncol or min(len(handles), 3 if longest > 22 else 4)
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, handlelength=2.6,
               columnspacing=1.4)


def new_fig(height: float, ncols: int = 1, nrows: int = 1, **kw):
    return plt.subplots(nrows, ncols, figsize=(fig_width(), height), layout="constrained", squeeze=False, **kw)


def panels(height: float, n: int = 2, **kw):
    """``n`` panels side by side, or stacked one under the other in the narrow layout: (fig, [axes])."""
    if narrow():
        fig, axes = new_fig(height * n * 0.85, nrows=n, **kw)
    else:
        fig, axes = new_fig(height, ncols=n, **kw)
    return fig, list(axes.ravel())


def log_if_decades(ax, values, axis: str = "y", decades: float = 1.0) -> bool:
    v = np.asarray([x for x in values if math.isfinite(x) and x > 0])
    if v.size and v.max() / v.min() >= 10 ** decades:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
        return True
    return False


def nice_log(ax, axis: str = "y"):
    """Plain-number tick labels (0.5, 2, 5) when a log axis spans few decades."""
    lo, hi = (ax.get_ylim() if axis == "y" else ax.get_xlim())
    if lo > 0 and hi / lo < 300:
        target = ax.yaxis if axis == "y" else ax.xaxis
        target.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        target.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        target.set_minor_formatter(matplotlib.ticker.NullFormatter())


def layer_axis(ax, n_layers: int):
    ax.set_xlabel("hidden layer")
    if n_layers <= 12:
        ax.set_xticks(range(1, n_layers + 1))
    else:
        step = 2 if n_layers <= 24 else 5
        ax.set_xticks([1] + list(range(step, n_layers + 1, step)))
    ax.set_xlim(0.6, n_layers + 0.4)


def message(ax, text: str, pal: dict):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=pal["muted"], wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


# ---------------------------------------------------------------------------------------
# Curves that lie on each other

OVERLAP_TOL = 0.01      # curves closer than 1% of the axis span everywhere are drawn on top of each other
ON_TOP = (0, (7, 3))    # long dashes (hollow markers): a curve that lies on an earlier one


def lies_on(curves, log: bool = False, tol: float = OVERLAP_TOL) -> dict[int, int]:
    """{j: i}: curve j coincides with the earlier curve i (same x, |Δy| ≤ tol × the axis span).

    ``curves``: [(x, y), ...] as drawn (finite points only); on a log axis the difference is
    taken between the logarithms. A curve is matched to the first earlier curve it lies on.
    """
    prepared = []
    for x, y in curves:
        x, y = np.asarray(x, float), np.asarray(y, float)
        if log:
            with np.errstate(all="ignore"):
                y = np.log10(np.where(y > 0, y, np.nan))
        prepared.append((x, y))
    ys = np.concatenate([y[np.isfinite(y)] for _, y in prepared] or [np.zeros(0)])
    if not ys.size:
        return {}
    span = float(ys.max() - ys.min()) or max(1e-12, float(np.abs(ys).max()))
    found: dict[int, int] = {}
    for j, (xj, yj) in enumerate(prepared):
        for i in range(j):
            xi, yi = prepared[i]
            if i in found or len(xi) != len(xj) or not len(xj) or not np.array_equal(xi, xj):
                continue
            if not np.array_equal(np.isfinite(yi), np.isfinite(yj)):
                continue
            ok = np.isfinite(yi)
            if ok.any() and float(np.max(np.abs(yi[ok] - yj[ok]))) <= tol * span:
                found[j] = i
                break
    return found


def put_on_top(line):
    """Restyle a drawn line that lies on another: long dashes, hollow markers, above the others."""
    line.set_linestyle(ON_TOP)
    line.set_markerfacecolor("none")
    line.set_markersize(max(line.get_markersize(), 7))
    line.set_zorder(3)


def lies_on_text(names: list[str], found: dict[int, int], where: str = "") -> str:
    """Caption sentences naming the curves that lie on others ('' if none)."""
    if not found:
        return ""
    parts = [f"{names[j]} lies on {names[i]}" for j, i in sorted(found.items())]
    return (" " + "; ".join(parts) + (f" {where}" if where else "")
            + f" (the curves differ by less than {OVERLAP_TOL:.0%} of the axis; the later one is drawn on top with long "
            "dashes and hollow markers).")


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _log_tick(value, _pos=None) -> str:
    """'10⁻³' for a decade, '' between decades: the same text matplotlib's log formatter draws with
    mathtext, as plain Unicode (mathtext is parsed for every tick of every variant: most of a figure's
    drawing time)."""
    if not (value > 0 and math.isfinite(value)):
        return ""
    exponent = math.log10(value)
    if abs(exponent - round(exponent)) > 1e-9:
        return ""
    e = int(round(exponent))
    return {0: "1", 1: "10"}.get(e, "10" + str(e).translate(_SUPERSCRIPT))


class _PlainScalar(matplotlib.ticker.ScalarFormatter):
    """A ScalarFormatter whose tick labels are plain text ('0.5', '−2'); its offset ('×10⁻³') keeps mathtext."""

    def __call__(self, x, pos=None):
        text = super().__call__(x, pos)
        if text.startswith("$\\mathdefault{") and text.endswith("}$"):
            return text[len("$\\mathdefault{"):-2]
        return text


def plain_ticks(fig) -> None:
    """Tick labels as plain text instead of mathtext, which matplotlib parses for every tick of every variant
    (measured: most of a figure's drawing time). Log axes on matplotlib's default formatter get '10⁻³'
    labels; scalar axes keep their formatter's settings and state, with plain-text labels."""
    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, ScalarFormatter
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for get, put in ((axis.get_major_formatter, axis.set_major_formatter),
                             (axis.get_minor_formatter, axis.set_minor_formatter)):
                f = get()
                if isinstance(f, LogFormatterSciNotation):
                    # the major ticks of a log axis are decades; minor labels (shown only on an axis spanning
                    # about a decade) keep matplotlib's formatter
                    if put == axis.set_major_formatter:
                        put(FuncFormatter(_log_tick))
                elif type(f) is ScalarFormatter:
                    f.__class__ = _PlainScalar
