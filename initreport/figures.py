"""Figures for the site: one function per figure kind, each drawn in a light and a dark style.

Every kind reads only the result dicts of :mod:`initreport.runner` and adapts to whatever runs
an experiment has. :func:`render_experiment` draws the kinds an experiment lists
(``Experiment.figures``) and writes ``<experiment id>--<kind>--light.<ext>`` and
``...--dark.<ext>`` into the figures directory; :func:`render_all` does it for a catalogue,
optionally in several processes.

Output is byte-identical for the same input: Agg backend, fixed SVG hash salt, no dates or
software tags in the files, every rcParam set from the defaults for each figure, and files
written atomically (temporary name in the same directory, then ``os.replace``).

Statistics that are null (a diverged seed, or a statistic that does not apply) are never
plotted; diverged seeds are marked on the figure or named in its caption.
"""

from __future__ import annotations

import io
import math
import textwrap
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.style as mstyle  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from . import initializers  # noqa: E402
from .cache import atomic_write  # noqa: E402
from .errors import InitReportError, choice_error  # noqa: E402

HASH_SALT = "initreport"
WIDTH_IN = 7.0          # a ~700 px content column at 100 dpi
SVG_DPI = 100
PNG_DPI = 150           # crisp on high-density screens, shown at 700 px
VARIANTS = ("light", "dark")


@dataclass(frozen=True)
class Figure:
    kind: str
    light: str      # file name relative to the figures dir
    dark: str
    alt: str        # what the figure shows, in one sentence
    caption: str    # what to look at


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


def _rc(pal: dict) -> dict:
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


def _layer_cmap(pal: dict):
    lo, hi = pal["cmap_range"]
    base = plt.get_cmap("viridis")
    return mcolors.LinearSegmentedColormap.from_list(
        f"viridis_{lo}_{hi}", base(np.linspace(lo, hi, 256)))


# ---------------------------------------------------------------------------------------
# Reading results (never returns None/NaN to a plot call)

def _mean(stat) -> float:
    if not stat or stat.get("mean") is None:
        return math.nan
    return float(stat["mean"])


def _get(stat, key: str) -> float:
    if not stat or stat.get(key) is None:
        return math.nan
    return float(stat[key])


def _finite(xs, ys, positive: bool = False):
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    ok = np.isfinite(ys) & np.isfinite(xs)
    if positive:
        ok &= ys > 0
    return xs[ok], ys[ok]


def _fmt(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0"
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 else f"{x:.1e}"


def _pct(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.0f}%"


WORDS = {
    "zeros": "zeros", "constant": "constant", "small_random": "small random",
    "large_random": "large N(0,1)", "large_uniform": "large U[−3,3]",
    "large_uniform_positive": "large U[0,1)", "glorot_normal": "Glorot normal",
    "glorot_uniform": "Glorot uniform", "he_normal": "He normal", "he_uniform": "He uniform",
    "lecun_normal": "LeCun normal", "lecun_uniform": "LeCun uniform",
    "xavier_normal_untruncated": "Xavier normal (untruncated)", "scaled_normal": "scaled normal",
    "relu": "ReLU", "leaky_relu": "leaky ReLU", "tanh": "tanh", "sigmoid": "sigmoid",
    "digits": "digits", "spirals": "spirals", "circles": "circles", "moons": "moons",
}


def pretty(label: str) -> str:
    """A run label for a legend: 'he_normal, relu' → 'He normal, ReLU'."""
    parts = [p.strip() for p in str(label).split(",")]
    out = []
    for p in parts:
        if p in WORDS:
            out.append(WORDS[p])
        elif p.startswith("depth ") or p.startswith("gain ") or p.startswith("width ") or p.startswith("bias "):
            out.append(p.replace(" ", " = ", 1))
        else:
            out.append(p.replace("_", " "))
    return ", ".join(out)


def _runs(exp, results: dict) -> list[tuple[str, dict]]:
    runs = [(label, results[label]) for label, _ in exp.runs if label in results]
    if not runs:
        raise InitReportError(f"no results for experiment {exp.id!r}: expected runs "
                              + ", ".join(repr(label) for label, _ in exp.runs[:3]))
    return runs


def _styles(labels: list[str]) -> dict[str, tuple[int, str, str]]:
    """(colour index, line style, marker) per label.

    Labels like 'init, activation[, more]' get one colour per init and one line style per
    the rest, when that fits the palette; otherwise one colour per run.
    """
    parts = [[p.strip() for p in lab.split(",", 1)] for lab in labels]
    if len(labels) > 1 and all(len(p) == 2 for p in parts):
        heads = list(dict.fromkeys(p[0] for p in parts))
        tails = list(dict.fromkeys(p[1] for p in parts))
        if len(heads) > 1 and len(tails) > 1:
            if len(heads) <= 8 and len(tails) <= 4:
                return {lab: (heads.index(p[0]), LINESTYLES[tails.index(p[1])], MARKERS[tails.index(p[1])])
                        for lab, p in zip(labels, parts)}
            if len(tails) <= 8 and len(heads) <= 4:
                return {lab: (tails.index(p[1]), LINESTYLES[heads.index(p[0])], MARKERS[heads.index(p[0])])
                        for lab, p in zip(labels, parts)}
    # One colour per run; line styles also vary so that runs lying on top of each other stay visible.
    return {lab: (i % 8, LINESTYLES[i % 4], MARKERS[i % 8]) for i, lab in enumerate(labels)}


def _diverged_text(runs) -> str:
    parts = []
    for label, r in runs:
        if r["diverged"]:
            seeds = ", ".join(f"seed {d['seed']} at epoch {d['epoch']}" for d in r["diverged"])
            parts.append(f"{pretty(label)}: {len(r['diverged'])} of {r['n_seeds']} seeds diverged ({seeds})")
    return ("Diverged (NaN/Inf, not plotted): " + "; ".join(parts) + ".") if parts else ""


def _wrap(text: str, ncols: int) -> str:
    """A panel title broken to fit a panel of a 7-inch figure with ncols columns."""
    width = {1: 70, 2: 40, 3: 27, 4: 19}.get(ncols, 16)
    return textwrap.fill(text, width=width, break_long_words=False)


def _legend_below(fig, handles, labels, ncol=None):
    if not handles:
        return
    ncol = ncol or min(len(handles), 3 if max(len(s) for s in labels) > 22 else 4)
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, handlelength=2.6,
               columnspacing=1.4)


def _new_fig(height: float, ncols: int = 1, nrows: int = 1, **kw):
    return plt.subplots(nrows, ncols, figsize=(WIDTH_IN, height), layout="constrained", squeeze=False, **kw)


def _log_if_decades(ax, values, axis: str = "y", decades: float = 1.0) -> bool:
    v = np.asarray([x for x in values if math.isfinite(x) and x > 0])
    if v.size and v.max() / v.min() >= 10 ** decades:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
        return True
    return False


def _layer_axis(ax, n_layers: int):
    ax.set_xlabel("hidden layer")
    if n_layers <= 12:
        ax.set_xticks(range(1, n_layers + 1))
    else:
        step = 2 if n_layers <= 24 else 5
        ax.set_xticks([1] + list(range(step, n_layers + 1, step)))
    ax.set_xlim(0.6, n_layers + 0.4)


def _message(ax, text: str, pal: dict):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=pal["muted"], wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


# ---------------------------------------------------------------------------------------
# Theory for layer_std


def _theory_std(r: dict) -> tuple[list[float], str] | None:
    """Activation std per layer predicted from the measured first layer, or None.

    ReLU with zero-mean weights and zero biases: Var(Z_l) = n_in·Var(W)/2 · Var(Z_{l−1}), so the
    std is multiplied by √(n_in σ²/2) per layer (He et al. 2015). tanh with small weights (linear
    regime, n_in σ² ≤ 1): ×σ√n_in per layer.
    """
    c = r["config"]
    act = c["activation"]
    if act not in ("relu", "tanh") or (c.get("bias") not in (None, 0, 0.0)):
        return None
    layers = r["layers"]
    if not layers:
        return None
    info = initializers.get_info(c["init"])
    params = c.get("init_params") or {}
    if info.default_bias != 0 and c.get("bias") is None:
        return None
    start = _mean(layers[0]["activation_std"])
    if not (math.isfinite(start) and start > 0):
        return None
    out, value = [start], start
    for layer in layers[1:]:
        fan_in, fan_out = layer["fan_in"], layer["fan_out"]
        if info.mean(fan_in, fan_out, **params) != 0:
            return None
        sigma = info.std(fan_in, fan_out, **params)
        gain2 = fan_in * sigma * sigma
        if act == "relu":
            value *= math.sqrt(gain2 / 2)
        else:
            if gain2 > 1 + 1e-9:
                return None
            value *= math.sqrt(gain2)
        out.append(value)
    return out, ("×√(n_in σ²/2) per layer" if act == "relu" else "×σ√n_in per layer (linear regime)")


# ---------------------------------------------------------------------------------------
# Figure kinds: (exp, runs, pal) -> (fig, alt, caption)


def fig_layer_std(exp, runs, pal):
    fig, axes = _new_fig(3.6, ncols=2)
    ax_a, ax_g = axes[0]
    cols = colours(pal)
    styles = _styles([label for label, _ in runs])
    handles, labels = [], []
    n_max, any_theory = 1, False
    alt_bits = []
    all_a, all_g = [], []
    for label, r in runs:
        ci, ls, mk = styles[label]
        layers = r["layers"]
        n_max = max(n_max, len(layers))
        x = np.arange(1, len(layers) + 1)
        a = [_mean(layer["activation_std"]) for layer in layers]
        g = [_mean(layer["gradient_std"]) for layer in layers]
        xa, ya = _finite(x, a, positive=True)
        xg, yg = _finite(x, g, positive=True)
        all_a += list(ya)
        all_g += list(yg)
        (h,) = ax_a.plot(xa, ya, color=cols[ci], linestyle="-", marker=mk)
        ax_g.plot(xg, yg, color=cols[ci], linestyle="-", marker=mk)
        handles.append(h)
        labels.append(pretty(label))
        theory = _theory_std(r)
        if theory is not None and len(xa) == len(layers):
            ax_a.plot(x, theory[0], color=cols[ci], linestyle=(0, (2, 2)), linewidth=1.3, alpha=0.9)
            any_theory = True
        if len(ya):
            alt_bits.append(f"{pretty(label)} {_fmt(ya[0])} → {_fmt(ya[-1])}")
    for ax, vals, title in ((ax_a, all_a, "activation std (forward)"),
                            (ax_g, all_g, "gradient std ∂L/∂Z (backward)")):
        if vals:
            ax.set_yscale("log")
        _layer_axis(ax, n_max)
        ax.set_title(title)
    ax_a.set_ylabel("std at initialisation")
    if any_theory:
        handles.append(Line2D([], [], color=pal["fg"], linestyle=(0, (2, 2)), linewidth=1.3))
        labels.append("theory from layer 1")
    _legend_below(fig, handles, labels)
    alt = (f"Two line charts over the {n_max} hidden layers at initialisation, log scale: activation std "
           f"(layer 1 → {n_max}: " + "; ".join(alt_bits[:4]) + ") and back-propagated gradient std.")
    caption = ("Left: the spread of each hidden layer's outputs for the same input batch; right: the spread of "
               "the gradient flowing back into each layer. A line that falls steadily on the log scale is a "
               "signal vanishing (or, rising, exploding) with depth.")
    if any_theory:
        caption += (" Dashed: the variance argument started from the measured layer 1 "
                    "(ReLU ×√(n_in σ²/2) per layer, tanh in its linear regime ×σ√n_in).")
    return fig, alt, caption


def _hist_figure(exp, runs, pal, key: str):
    n = len(runs)
    ncols = min(n, 4)
    nrows = math.ceil(n / ncols)
    edges_all = [tuple(layer[key]["edges"]) for _, r in runs for layer in r["layers"] if layer.get(key)]
    same_x = key == "activation_hist" and len(set(edges_all)) == 1
    height = 1.95 * nrows + 0.85
    fig, axes = _new_fig(height, ncols=ncols, nrows=nrows, sharex=same_x, sharey=same_x)
    cmap = _layer_cmap(pal)
    n_layers = max(len(r["layers"]) for _, r in runs)
    norm = mcolors.Normalize(vmin=1, vmax=max(2, n_layers))
    peaks = []
    for i, (label, r) in enumerate(runs):
        ax = axes[i // ncols][i % ncols]
        layers = r["layers"]
        drawn = 0
        for layer in layers:
            h = layer.get(key)
            if not h:
                continue
            edges = np.asarray([np.nan if e is None else e for e in h["edges"]], float)
            frac = np.asarray([np.nan if f is None else f for f in h["fraction"]], float)
            centres = (edges[:-1] + edges[1:]) / 2
            xs, ys = _finite(centres, frac)
            if not len(xs):
                continue
            ax.plot(xs, ys, color=cmap(norm(layer["layer"])), linewidth=1.3)
            drawn += 1
            peaks.append((label, layer["layer"], float(ys.max())))
        ax.set_title(_wrap(pretty(label), ncols), fontsize=9.5)
        if not drawn:
            _message(ax, "no histogram\n(all seeds diverged)", pal)
            continue
        if not same_x:
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3), useMathText=True)
            ax.xaxis.get_offset_text().set_fontsize(8.5)
        ax.tick_params(axis="both", labelsize=8.5)
        ax.locator_params(axis="x", nbins=4)
    for j in range(n, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    what = "activation value" if key == "activation_hist" else "gradient ∂L/∂Z"
    fig.supxlabel(what, fontsize=9.5)
    fig.supylabel("fraction per bin", fontsize=9.5)
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=axes.ravel().tolist(), location="right", shrink=0.85, aspect=25, pad=0.01)
    cb.set_label("hidden layer")
    cb.outline.set_visible(False)
    cb.set_ticks(sorted({1, n_layers, *range(1, n_layers + 1, max(1, n_layers // 5))}))
    noun = "activations" if key == "activation_hist" else "back-propagated gradients"
    alt = (f"Histograms of the {noun} of each hidden layer at initialisation, one panel per run "
           f"({', '.join(pretty(l) for l, _ in runs[:4])}{', …' if n > 4 else ''}), one line per layer "
           f"coloured from dark (layer 1) to light (layer {n_layers}).")
    if key == "activation_hist":
        caption = ("Each line is one layer's distribution of outputs at initialisation (pooled over seeds), as in "
                   "Glorot & Bengio 2010, Fig. 6. Peaks at the ends of a tanh or sigmoid range are saturated "
                   "units; a spike at 0 is a signal that has died out.")
        if not same_x:
            caption += " Values beyond each layer's range fall into its end bins."
    else:
        caption = ("Each line is one layer's distribution of the gradient reaching its pre-activations at "
                   "initialisation (pooled over seeds), as in Glorot & Bengio 2010, Fig. 7. Each layer's 40 bins "
                   "span its own 99.5th percentile, so a narrow spike beside a wide curve means that layer's "
                   "gradients are orders of magnitude smaller.")
        if any(r["config"]["activation"] in ("relu", "leaky_relu") for _, r in runs):
            caption += " With ReLU the spike at 0 is the units that are off, which pass no gradient."
    return fig, alt, caption


def fig_activation_hist(exp, runs, pal):
    return _hist_figure(exp, runs, pal, "activation_hist")


def fig_gradient_hist(exp, runs, pal):
    return _hist_figure(exp, runs, pal, "gradient_hist")


def _series(r: dict, key: str):
    ep, m, lo, hi = [], [], [], []
    for entry in r["history"]:
        s = entry[key]
        ep.append(entry["epoch"])
        m.append(_mean(s))
        lo.append(_get(s, "min"))
        hi.append(_get(s, "max"))
    return np.asarray(ep, float), np.asarray(m), np.asarray(lo), np.asarray(hi)


def fig_loss_curves(exp, runs, pal):
    fig, axes = _new_fig(3.6, ncols=2)
    ax_l, ax_a = axes[0]
    cols = colours(pal)
    styles = _styles([label for label, _ in runs])
    handles, labels = [], []
    all_loss, any_div = [], False
    div_count: dict = {}
    max_epoch = 0
    for label, r in runs:
        ci, ls, mk = styles[label]
        for ax, key in ((ax_l, "loss"), (ax_a, "test_accuracy")):
            ep, m, lo, hi = _series(r, key)
            max_epoch = max(max_epoch, int(ep.max()) if len(ep) else 0)
            ok = np.isfinite(m) & np.isfinite(lo) & np.isfinite(hi)
            if key == "loss":
                ok &= (lo > 0)
                all_loss += list(lo[ok]) + list(hi[ok])
            mark = mk if ok.sum() <= 1 or len(ep) <= 6 else None
            (h,) = ax.plot(ep[ok], m[ok], color=cols[ci], linestyle=ls, marker=mark)
            if r["n_seeds"] > 1 and ok.any():
                ax.fill_between(ep[ok], lo[ok], hi[ok], color=cols[ci], alpha=0.18, linewidth=0)
            if key == "loss":
                handles.append(h)
                labels.append(pretty(label))
        for d in r["diverged"]:
            any_div = True
            stack = div_count.get(d["epoch"], 0)
            div_count[d["epoch"]] = stack + 1
            trans = blended_transform_factory(ax_l.transData, ax_l.transAxes)
            ax_l.plot([d["epoch"]], [0.96 - 0.06 * stack], marker="x", markersize=8, markeredgewidth=2,
                      color=cols[ci], transform=trans, clip_on=False, linestyle="none")
    is_log = _log_if_decades(ax_l, all_loss)
    if any_div and all_loss:
        # Free band at the top of the loss panel for the divergence crosses.
        lo_v, hi_v = min(all_loss), max(all_loss)
        n_stack = max(div_count.values())
        room = 0.1 + 0.06 * n_stack
        if is_log:
            span = math.log10(hi_v / lo_v) or 1.0
            ax_l.set_ylim(lo_v / 10 ** (0.05 * span), hi_v * 10 ** (span * room / (1 - room)))
        else:
            span = (hi_v - lo_v) or max(abs(hi_v), 1.0)
            ax_l.set_ylim(lo_v - 0.05 * span, hi_v + span * room / (1 - room))
    if is_log:
        _nice_log(ax_l)
    ax_l.set_title("training loss")
    ax_a.set_title("test accuracy")
    ax_a.set_ylim(-0.02, 1.02)
    ax_a.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    for ax in (ax_l, ax_a):
        ax.set_xlabel("epoch")
        ax.set_xlim(0, max(1, max_epoch))
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=6))
    if any_div:
        handles.append(Line2D([], [], marker="x", color=pal["fg"], markersize=7, markeredgewidth=2,
                              linestyle="none"))
        labels.append("a seed diverged at this epoch")
    _legend_below(fig, handles, labels)
    finals = [(pretty(label), _mean(r["final"]["test_accuracy"])) for label, r in runs]
    alt = ("Training loss and test accuracy per epoch for " + ", ".join(f"{n} (final test accuracy {_pct(a)})"
                                                                     for n, a in finals[:5])
           + (", and more" if len(finals) > 5 else "") + ".")
    caption = ("Left: training loss per epoch (epoch 0 is the untrained network); right: accuracy on the "
               "held-out test split. Lines are the mean over seeds, bands the min–max; a flat line means no "
               "learning.")
    div = _diverged_text(runs)
    if div:
        caption += " " + div + " Crosses at the top of the loss panel mark the epoch a seed diverged."
    return fig, alt, caption


def fig_decision_boundary(exp, runs, pal):
    from .datasets import load_dataset

    shown = [(label, r) for label, r in runs if r.get("boundary")]
    missing = [label for label, r in runs if not r.get("boundary")]
    cols = colours(pal)
    class_cols = [cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[7]]
    if not shown:
        fig, axes = _new_fig(1.6)
        _message(axes[0][0], "No decision boundary recorded (not a 2-D dataset, or every seed diverged).", pal)
        return fig, "No decision boundary was recorded for these runs.", "No run of this experiment recorded a boundary."
    n = len(shown)
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    fig, axes = _new_fig(2.35 * nrows + 0.45, ncols=ncols, nrows=nrows, sharex=True, sharey=True)
    data_cache: dict = {}
    bits = []
    for i, (label, r) in enumerate(shown):
        ax = axes[i // ncols][i % ncols]
        b = r["boundary"]
        grid = np.asarray(b["classes"], float)
        n_classes = int(max(2, np.nanmax(grid) + 1))
        name = r["config"]["dataset"]
        if name not in data_cache:
            data_cache[name] = load_dataset(name)
        data = data_cache[name]
        n_classes = max(n_classes, int(data.n_classes))
        cmap = mcolors.ListedColormap([class_cols[k % len(class_cols)] for k in range(n_classes)])
        ax.imshow(grid, origin="lower", extent=b["extent"], cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5,
                  alpha=0.35, interpolation="nearest", aspect="auto")
        x, y = np.asarray(data.x_train), np.asarray(data.y_train)
        for k in range(n_classes):
            sel = y == k
            ax.scatter(x[sel, 0], x[sel, 1], s=7, color=class_cols[k % len(class_cols)],
                       edgecolors=pal["fg"], linewidths=0.3, zorder=3)
        acc = _mean(r["final"]["test_accuracy"])
        ax.set_title(f"{_wrap(pretty(label), ncols)}\ntest acc. {_pct(acc)}", fontsize=9.5)
        ax.set_xlim(b["extent"][0], b["extent"][1])
        ax.set_ylim(b["extent"][2], b["extent"][3])
        ax.set_aspect("equal")
        ax.grid(False)
        ax.tick_params(labelsize=8.5)
        bits.append(f"{pretty(label)} {_pct(acc)}")
    for j in range(n, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    seeds = sorted({r["boundary"]["seed"] for _, r in shown})
    alt = ("Predicted class regions over the standardised input plane with the training points, one panel per "
           "run; test accuracy " + ", ".join(bits) + ".")
    caption = (f"Shaded: the class the trained network predicts at each point (seed {', '.join(map(str, seeds))}); "
               "dots: the training points coloured by their true class. A straight boundary, or one class "
               "everywhere, means the hidden units are not working as a non-linear feature set.")
    if missing:
        caption += " No boundary for " + ", ".join(pretty(m) for m in missing) + " (every seed diverged)."
    return fig, alt, caption


def _matrix_cells(runs):
    """{dataset: {(init, activation): result}} from runs labelled 'init, activation, dataset'."""
    cells: dict = {}
    for label, r in runs:
        c = r["config"]
        parts = [p.strip() for p in label.split(",")]
        if parts != [c["init"], c["activation"], c["dataset"]]:
            continue   # not a matrix run (e.g. the deep pair of he-for-relu)
        cells.setdefault(c["dataset"], {})[(c["init"], c["activation"])] = r
    return cells


def fig_heatmap(exp, runs, pal):
    cells = _matrix_cells(runs)
    if not cells:
        fig, axes = _new_fig(1.6)
        _message(axes[0][0], "No runs labelled 'init, activation, dataset'.", pal)
        return fig, "No technique × activation matrix in these runs.", "No matrix runs."
    datasets = list(cells)
    inits = list(dict.fromkeys(k[0] for d in datasets for k in cells[d]))
    acts = list(dict.fromkeys(k[1] for d in datasets for k in cells[d]))
    height = 0.3 * len(inits) + 1.5
    fig, axes = _new_fig(height, ncols=len(datasets), sharey=True)
    cmap = plt.get_cmap("cividis").with_extremes(bad=pal["grid"])
    best_bits, partial = [], []
    im = None
    for d_i, dataset in enumerate(datasets):
        ax = axes[0][d_i]
        grid = np.full((len(inits), len(acts)), np.nan)
        for (init, act), r in cells[dataset].items():
            grid[inits.index(init), acts.index(act)] = _mean(r["final"]["test_accuracy"])
        im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=1, aspect="auto",
                       interpolation="nearest")
        for (init, act), r in cells[dataset].items():
            i, j = inits.index(init), acts.index(act)
            v = grid[i, j]
            nd = len(r["diverged"])
            if not math.isfinite(v):
                text, colour = ("div." if nd >= r["n_seeds"] else "n/a"), pal["fg"]
            else:
                text = f"{100 * v:.0f}" + ("†" if nd else "")
                rgb = cmap(v)[:3]
                lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
                colour = "#000000" if lum > 0.45 else "#ffffff"
            if nd and math.isfinite(v):
                partial.append(f"{pretty(init)}/{pretty(act)} on {dataset}: {nd} of {r['n_seeds']}")
            ax.text(j, i, text, ha="center", va="center", fontsize=9, color=colour)
        ax.set_xticks(range(len(acts)), [pretty(a) for a in acts])
        ax.set_yticks(range(len(inits)), [pretty(i) for i in inits])
        ax.tick_params(length=0)
        ax.grid(False)
        for s in ax.spines.values():
            s.set_visible(False)
        ax.set_title(f"{dataset} (chance {100 / _n_classes(dataset):.0f}%)")
        flat = [(grid[i, j], inits[i], acts[j]) for i in range(len(inits)) for j in range(len(acts))
                if math.isfinite(grid[i, j])]
        if flat:
            v, i, a = max(flat)
            best_bits.append(f"best on {dataset}: {pretty(i)} with {pretty(a)}, {100 * v:.0f}%")
    cb = fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.9, aspect=30, pad=0.02)
    cb.set_label("mean final test accuracy")
    cb.outline.set_visible(False)
    cb.ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    alt = ("Heat map of the mean final test accuracy (%) for each initialiser (rows) and activation (columns), "
           "one panel per dataset; " + "; ".join(best_bits) + ".")
    caption = ("Each cell is the test accuracy after training, averaged over seeds; compare a row across "
               "activations, and the heuristics against the pitfalls above them. \"div.\": every seed "
               "diverged.")
    if partial:
        caption += " †: some seeds diverged and the mean is over the rest (" + "; ".join(partial) + ")."
    return fig, alt, caption


def _n_classes(dataset: str) -> int:
    from .datasets import BUILTIN_DATASETS

    info = BUILTIN_DATASETS.get(dataset)
    return info.n_classes if info else 2


def fig_sweep(exp, runs, pal):
    fig, axes = _new_fig(3.5)
    ax = axes[0][0]
    cols = colours(pal)
    by_act: dict = {}
    for label, r in runs:
        gain = (r["config"].get("init_params") or {}).get("gain")
        if gain is None:
            continue
        by_act.setdefault(r["config"]["activation"], []).append((float(gain), r))
    handles, labels, values, best = [], [], [], []
    div_points = []
    for k, (act, items) in enumerate(by_act.items()):
        items.sort(key=lambda t: t[0])
        g = np.array([t[0] for t in items])
        m = np.array([_mean(t[1]["final"]["loss"]) for t in items])
        lo = np.array([_get(t[1]["final"]["loss"], "min") for t in items])
        hi = np.array([_get(t[1]["final"]["loss"], "max") for t in items])
        ok = np.isfinite(m) & (m > 0) & np.isfinite(lo) & (lo > 0)
        values += list(lo[ok]) + list(hi[ok])
        (h,) = ax.plot(g[ok], m[ok], color=cols[k], marker=MARKERS[k], linestyle=LINESTYLES[k])
        ax.fill_between(g[ok], lo[ok], hi[ok], color=cols[k], alpha=0.18, linewidth=0)
        handles.append(h)
        labels.append(pretty(act))
        if ok.any():
            i = int(np.argmin(np.where(ok, m, np.inf)))
            best.append(f"{pretty(act)} lowest {_fmt(m[i])} at gain {_fmt(g[i])}")
        for gain, r in items:
            if r["diverged"]:
                div_points.append((gain, k, len(r["diverged"]), r["n_seeds"], act))
    ax.set_xscale("log")
    if _log_if_decades(ax, values, decades=0.5):
        _nice_log(ax)
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for x, name in ((1.0, "1 (LeCun,\nXavier for n_in = n_out)"), (math.sqrt(2), "√2 (He)")):
        ax.axvline(x, color=pal["muted"], linestyle=(0, (4, 3)), linewidth=1)
        ax.text(x * (0.93 if x == 1.0 else 1.07), 0.97, name, transform=trans, ha="right" if x == 1.0 else "left",
                va="top", fontsize=8.5, color=pal["muted"])
    for gain, k, nd, ns, act in div_points:
        ax.plot([gain], [0.86], marker="x", markersize=9, markeredgewidth=2, color=cols[k], transform=trans,
                linestyle="none", clip_on=False)
        # Neighbouring gains would make count labels collide; the caption lists the counts.
    ax.set_xlabel("gain g (weights N(0, g²/n_in))")
    ax.set_ylabel("final training loss")
    if div_points:
        handles.append(Line2D([], [], marker="x", color=pal["fg"], markersize=7, markeredgewidth=2,
                              linestyle="none"))
        labels.append("seeds diverged (not in the mean)")
    _legend_below(fig, handles, labels)
    alt = ("Final training loss against the weight gain on a log axis, one line per activation; "
           + "; ".join(best) + ".")
    caption = ("Too small a gain and the signal never reaches the output; too large and units saturate or the "
               "loss explodes. The dashed lines mark the heuristics: gain 1 (LeCun; Xavier when fan-in equals "
               "fan-out) and √2 (He). Band: min–max over seeds.")
    div = _diverged_text(runs)
    if div:
        caption += " " + div
    return fig, alt, caption


def _per_seed_drop(r: dict) -> list[float]:
    start = r["history"][0]["loss"]["values"]
    end = r["final"]["loss"]["values"]
    out = []
    for s, e in zip(start, end):
        if s is None or e is None or not s > 0:
            continue
        out.append(1.0 - e / s)
    return out


def fig_depth(exp, runs, pal):
    fig, axes = _new_fig(3.5)
    ax = axes[0][0]
    cols = colours(pal)
    groups: dict = {}
    for label, r in runs:
        c = r["config"]
        groups.setdefault((c["activation"], c["init"]), []).append((c["depth"], r))
    handles, labels, bits, divs, lows = [], [], [], [], []
    depths_all = set()
    for k, ((act, init), items) in enumerate(groups.items()):
        items.sort(key=lambda t: t[0])
        d, m, lo, hi = [], [], [], []
        for depth, r in items:
            depths_all.add(depth)
            drops = _per_seed_drop(r)
            if r["diverged"]:
                divs.append((depth, k, len(r["diverged"]), r["n_seeds"]))
            start, end = _mean(r["history"][0]["loss"]), _mean(r["final"]["loss"])
            if not drops or not (math.isfinite(start) and math.isfinite(end) and start > 0):
                continue
            d.append(depth)
            m.append(1.0 - end / start)
            lo.append(min(drops))
            hi.append(max(drops))
            lows.append(min(drops + [m[-1]]))
        (h,) = ax.plot(d, m, color=cols[k % 8], marker=MARKERS[k % 8], linestyle=LINESTYLES[k % 4])
        if d:
            ax.fill_between(d, lo, hi, color=cols[k % 8], alpha=0.15, linewidth=0)
            bits.append(f"{pretty(init)}/{pretty(act)} {_pct(m[-1])} at depth {d[-1]}")
        handles.append(h)
        labels.append(f"{pretty(init)}, {pretty(act)}")
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for depth, k, nd, ns in divs:
        ax.plot([depth], [0.95], marker="x", markersize=9, markeredgewidth=2, color=cols[k % 8],
                transform=trans, linestyle="none", clip_on=False)
    ax.axhline(0, color=pal["muted"], linewidth=0.8)
    ax.set_xticks(sorted(depths_all))
    ax.set_xlabel("hidden layers")
    ax.set_ylabel("share of initial loss removed\n1 − L_final / L_0")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.set_ylim(min([-0.05] + [v - 0.05 for v in lows]), 1.02)
    _legend_below(fig, handles, labels, ncol=2)
    epochs = sorted({r["config"]["epochs"] for _, r in runs})
    alt = ("Share of the initial training loss removed after training against network depth, one line per "
           "initialiser and activation; " + "; ".join(bits) + ".")
    caption = (f"After {', '.join(map(str, epochs))} epochs, how much of the starting loss each network has "
               "removed (0% = it did not train). Band: min–max over seeds.")
    div = _diverged_text(runs)
    if div:
        caption += " " + div + " Crosses mark depths with a diverged seed."
    return fig, alt, caption


def fig_saturation(exp, runs, pal):
    fig, axes = _new_fig(3.5)
    ax = axes[0][0]
    cols = colours(pal)
    usable = [(label, r) for label, r in runs
              if any(math.isfinite(_mean(layer["saturated_fraction"])) for layer in r["layers"])]
    skipped = [label for label, _ in runs if label not in dict(usable)]
    styles = _styles([label for label, _ in usable])
    handles, labels, bits = [], [], []
    n_max = 1
    for label, r in usable:
        ci, ls, mk = styles[label]
        x = np.arange(1, len(r["layers"]) + 1)
        n_max = max(n_max, len(x))
        y = [_mean(layer["saturated_fraction"]) for layer in r["layers"]]
        xs, ys = _finite(x, y)
        (h,) = ax.plot(xs, ys, color=cols[ci], linestyle=ls, marker=mk)
        handles.append(h)
        labels.append(pretty(label))
        if len(ys):
            bits.append(f"{pretty(label)} {_pct(float(np.mean(ys)))}")
    _layer_axis(ax, n_max)
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("saturated outputs at init")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    _legend_below(fig, handles, labels, ncol=2 if len(labels) > 4 else None)
    alt = "Share of saturated hidden-unit outputs per layer at initialisation; mean over layers: " + ", ".join(bits) + "."
    caption = ("Share of the hidden units' outputs on the diagnostic batch that are saturated (|tanh| > 0.99, or "
               "sigmoid < 0.01 or > 0.99); a saturated unit passes almost no gradient back.")
    if skipped:
        caption += " Not defined for " + ", ".join(pretty(s) for s in skipped) + " (not plotted)."
    return fig, alt, caption


def _zero_marked_layers(exp, runs, pal, stat: str, zero_word: str, ylabel: str, skip=lambda r: False):
    """Per-layer values at the last checkpoint on a log axis; exact zeros in a strip below it.

    Returns (fig, bits, zeros_any, skipped, none_runs, epochs).
    """
    used = [(label, r) for label, r in runs if not skip(r)]
    skipped = [label for label, r in runs if skip(r)]
    series, n_max = [], 1
    for label, r in used:
        cp = r["checkpoints"][-1] if r["checkpoints"] else {"layers": [], "epoch": 0}
        y = np.asarray([_get(layer[stat], "max") for layer in cp["layers"]], float)
        n_max = max(n_max, len(y))
        series.append((label, cp["epoch"], y))
    zero_runs = [label for label, _, y in series if np.any(np.isfinite(y) & (y == 0))]
    zeros_any = bool(zero_runs)
    if zeros_any:
        strip = 0.28 + 0.17 * len(zero_runs)
        fig, axes = plt.subplots(2, 1, figsize=(WIDTH_IN, 3.3 + strip), layout="constrained", sharex=True,
                                 gridspec_kw={"height_ratios": [3.0, strip], "hspace": 0.0})
        ax, ax0 = axes
    else:
        fig, axes = _new_fig(3.5)
        ax, ax0 = axes[0][0], None
    cols = colours(pal)
    styles = _styles([label for label, _ in used])
    handles, labels, bits, none_runs = [], [], [], []
    positives = []
    for label, epoch, y in series:
        ci, ls, mk = styles[label]
        x = np.arange(1, len(y) + 1)
        pos = np.isfinite(y) & (y > 0)
        zero = np.isfinite(y) & (y == 0)
        positives += list(y[pos])
        (h,) = ax.plot(x[pos], y[pos], color=cols[ci], linestyle=ls, marker=mk, markersize=5)
        if zero.any():
            row = len(zero_runs) - 1 - zero_runs.index(label)
            ax0.plot(x[zero], np.full(zero.sum(), row), color=cols[ci], linestyle=ls, marker=mk, markersize=7,
                     markerfacecolor="none", markeredgewidth=1.4)
        handles.append(h)
        labels.append(pretty(label))
        if pos.any() or zero.any():
            bits.append(f"{pretty(label)} {_fmt(float(np.max(y[pos | zero])))}")
        else:
            none_runs.append(label)
            bits.append(f"{pretty(label)} n/a")
    if positives:
        ax.set_yscale("log")
        ax.set_ylim(10.0 ** math.floor(math.log10(min(positives))) / 1.15,
                    10.0 ** math.ceil(math.log10(max(positives))) * 1.15)
        _nice_log(ax)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no non-zero value", transform=ax.transAxes, ha="center", va="center",
                color=pal["muted"])
    ax.set_ylabel(ylabel)
    if ax0 is not None:
        ax0.set_ylim(-0.6, len(zero_runs) - 0.4)
        ax0.set_yticks([])
        ax0.set_ylabel(zero_word, rotation=0, ha="right", va="center")
        ax0.grid(axis="y", visible=False)
        ax0.spines["top"].set_visible(True)
        ax0.spines["top"].set_linestyle((0, (3, 3)))
        ax.tick_params(axis="x", labelbottom=False)
        _layer_axis(ax0, n_max)
        ax.set_xlabel("")
    else:
        _layer_axis(ax, n_max)
    _legend_below(fig, handles, labels, ncol=3 if len(labels) > 4 else None)
    epochs = sorted({e for _, e, _ in series})
    return fig, bits, zeros_any, skipped, none_runs, epochs


def _nice_log(ax, axis: str = "y"):
    """Plain-number tick labels (0.5, 2, 5) when a log axis spans few decades."""
    lo, hi = (ax.get_ylim() if axis == "y" else ax.get_xlim())
    if lo > 0 and hi / lo < 300:
        target = ax.yaxis if axis == "y" else ax.xaxis
        target.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        target.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        target.set_minor_formatter(matplotlib.ticker.NullFormatter())


def fig_weight_change(exp, runs, pal):
    fig, bits, zeros_any, _, none_runs, epochs = _zero_marked_layers(
        exp, runs, pal, "max_abs_change", "0\n(unchanged)", "largest |W_t − W_0|\n(max over seeds)")
    alt = ("Largest change of any hidden weight after training, per layer, log scale: " + ", ".join(bits) + ".")
    caption = (f"How far the hidden weights moved from their initial values by the end of training (epoch "
               f"{', '.join(map(str, epochs))}); the largest entry of |W_t − W_0| over the layer and the seeds.")
    if zeros_any:
        caption += " Hollow markers in the strip below the axis: exactly 0, the weights did not change by a single bit."
    if none_runs:
        caption += " No value for " + ", ".join(pretty(x) for x in none_runs) + " (every seed diverged)."
    div = _diverged_text(runs)
    if div:
        caption += " " + div
    return fig, alt, caption


def fig_unit_spread(exp, runs, pal):
    one_unit = lambda r: min(r["sizes"][1:-1] or [0]) <= 1   # noqa: E731
    fig, bits, zeros_any, skipped, none_runs, epochs = _zero_marked_layers(
        exp, runs, pal, "relative_unit_spread", "0\n(identical)", "unit spread / unit weight norm\n(max over seeds)",
        skip=one_unit)
    alt = ("Largest distance between two units' incoming weight vectors relative to their length, per hidden layer "
           "after training, log scale: " + ", ".join(bits) + ".")
    caption = (f"After training (epoch {', '.join(map(str, epochs))}): how different the units of a layer are. "
               "Random starts give spreads of order 1.")
    if zeros_any:
        caption += " Hollow markers in the strip below the axis: exactly 0, every unit is an identical copy of the others."
    if skipped:
        caption += " Not shown: " + ", ".join(pretty(s) for s in skipped) + " (one unit per layer, nothing to compare)."
    if none_runs:
        caption += " No value for " + ", ".join(pretty(x) for x in none_runs) + " (every seed diverged)."
    return fig, alt, caption


FIGURE_KINDS: dict[str, Callable] = {
    "layer_std": fig_layer_std,
    "activation_hist": fig_activation_hist,
    "gradient_hist": fig_gradient_hist,
    "loss_curves": fig_loss_curves,
    "decision_boundary": fig_decision_boundary,
    "heatmap": fig_heatmap,
    "sweep": fig_sweep,
    "depth": fig_depth,
    "saturation": fig_saturation,
    "weight_change": fig_weight_change,
    "unit_spread": fig_unit_spread,
}

# Raster for image-like and histogram-heavy figures; vector for line plots.
FORMATS = {"activation_hist": "png", "gradient_hist": "png", "decision_boundary": "png", "heatmap": "png"}


def file_name(exp_id: str, kind: str, variant: str) -> str:
    return f"{exp_id}--{kind}--{variant}.{FORMATS.get(kind, 'svg')}"


# ---------------------------------------------------------------------------------------
# Rendering


def _draw(kind: str, exp, runs, variant: str) -> tuple[bytes, str, str]:
    pal = PALETTES[variant]
    fmt = FORMATS.get(kind, "svg")
    with mstyle.context("default"), plt.rc_context(_rc(pal)), np.errstate(all="ignore"):
        fig, alt, caption = FIGURE_KINDS[kind](exp, runs, pal)
        try:
            buf = io.BytesIO()
            if fmt == "svg":
                fig.savefig(buf, format="svg", metadata={"Date": None})
            else:
                fig.savefig(buf, format="png", dpi=PNG_DPI, metadata={"Software": None})
        finally:
            plt.close(fig)
    return buf.getvalue(), alt, caption


def render_experiment(exp, results: dict, out_dir: Path) -> list[Figure]:
    """Draw every figure kind the experiment lists, light and dark, into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    unknown = [k for k in exp.figures if k not in FIGURE_KINDS]
    if unknown:
        raise choice_error("figure kind", unknown[0], FIGURE_KINDS)
    if not exp.figures:
        return []
    runs = _runs(exp, results)
    figures = []
    for kind in exp.figures:
        names = {}
        for variant in VARIANTS:
            data, alt, caption = _draw(kind, exp, runs, variant)
            names[variant] = file_name(exp.id, kind, variant)
            atomic_write(out_dir / names[variant], data)
        figures.append(Figure(kind, names["light"], names["dark"], alt, caption))
    return figures


def _render_job(exp, results, out_dir) -> list[Figure]:
    return render_experiment(exp, results, Path(out_dir))


def render_all(experiments, results_by_exp: dict, out_dir: Path, jobs: int = 1) -> dict[str, list[Figure]]:
    """Render every experiment that has figures and results; {experiment id: figures}.

    With jobs > 1 the experiments are drawn in separate (spawned) processes; the output
    is byte-identical to jobs = 1. As with any spawn pool, a calling script needs an
    ``if __name__ == "__main__":`` guard.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    todo = [e for e in experiments if e.figures and e.id in results_by_exp]
    out: dict[str, list[Figure]] = {}
    if jobs <= 1 or len(todo) <= 1:
        for e in todo:
            out[e.id] = render_experiment(e, results_by_exp[e.id], out_dir)
        return out
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    # Largest first, so the long jobs do not start last.
    order = sorted(todo, key=lambda e: -len(results_by_exp[e.id]) * len(e.figures))
    with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx) as pool:
        futures = {e.id: pool.submit(_render_job, e, _subset(e, results_by_exp[e.id]), str(out_dir))
                   for e in order}
        done = {k: f.result() for k, f in futures.items()}
    return {e.id: done[e.id] for e in todo}


def _subset(exp, results: dict) -> dict:
    """Only the runs the experiment uses (less to pickle to a worker)."""
    keep = {label for label, _ in exp.runs}
    return {k: v for k, v in results.items() if k in keep}

# The figure registry under the name the catalogue validates against (the figures package exposes
# FIGURES: name -> spec; until it lands, the kinds above are the registry).
FIGURES = FIGURE_KINDS
