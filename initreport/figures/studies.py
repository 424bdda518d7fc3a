"""Figure kinds that compare many runs: the technique × activation heat map, the gain sweep, the depth study."""

from __future__ import annotations

import math
from collections import Counter

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from .. import fmt
from ..datasets import BUILTIN_DATASETS
from .registry import register
from .style import LINESTYLES, MARKERS, colours, diverged_text, get, legend_below, log_if_decades, mean, message, \
    lies_on, lies_on_text, narrow, new_fig, nice_log, pretty, put_on_top

def _matrix_cells(runs) -> dict:
    """{dataset: {(init, activation): result}}: the matrix runs, found by their configs.

    The runs with role "matrix" if there are any, else all of them. Per dataset, the matrix is
    the runs of the network size (depth, width) most of them share: an extra pair of deep
    networks in the same experiment is not a cell. (Training settings such as the learning rate
    may differ between activations.)
    """
    chosen = [(run, r) for run, r in runs if run.role == "matrix"] or list(runs)
    by_dataset: dict = {}
    for run, r in chosen:
        by_dataset.setdefault(run.config.dataset, []).append((run, r))
    cells: dict = {}
    for dataset, items in by_dataset.items():
        size = Counter((run.config.depth, run.config.width) for run, _ in items).most_common(1)[0][0]
        for run, r in items:
            if (run.config.depth, run.config.width) == size:
                cells.setdefault(dataset, {})[(run.config.init, run.config.activation)] = r
    return cells


def _n_classes(dataset: str) -> int:
    info = BUILTIN_DATASETS.get(dataset)
    return info.n_classes if info else 2


def _heat_panel(ax, dataset, cell_runs, inits, acts, cmap, pal, partial, best_bits):
    grid = np.full((len(inits), len(acts)), np.nan)
    for (init, act), r in cell_runs.items():
        grid[inits.index(init), acts.index(act)] = mean(r["final"]["test_accuracy"])
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    for (init, act), r in cell_runs.items():
        i, j = inits.index(init), acts.index(act)
        v = grid[i, j]
        nd = len(r["diverged"])
        if not math.isfinite(v):
            text, colour = ("diverged" if nd >= r["n_seeds"] else fmt.MISSING), pal["fg"]
        else:
            # The percentage without its sign: the colour bar says "%".
            text = fmt.pct(v, 0).removesuffix("%") + ("*" if nd else "")
            rgb = cmap(v)[:3]
            lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
            colour = "#000000" if lum > 0.45 else "#ffffff"
        if nd and math.isfinite(v):
            partial.append(f"{pretty(init)}/{pretty(act)} on {dataset}: {nd} of {r['n_seeds']}")
        # "diverged" is wider than a cell at 9 pt: two neighbours would run together
        ax.text(j, i, text, ha="center", va="center", fontsize=6.5 if text == "diverged" else 9,
                color=colour)
    ax.set_xticks(range(len(acts)), [pretty(a).replace(" ", "\n") for a in acts])   # "leaky ReLU" on two lines
    ax.set_yticks(range(len(inits)), [pretty(i) for i in inits])
    ax.tick_params(length=0)
    ax.grid(False)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_title(f"{dataset} (chance {fmt.pct(1 / _n_classes(dataset), 0)})")
    flat = [(grid[i, j], inits[i], acts[j]) for i in range(len(inits)) for j in range(len(acts))
            if math.isfinite(grid[i, j])]
    if flat:
        v, i, a = max(flat)
        best_bits.append(f"best on {dataset}: {pretty(i)} with {pretty(a)}, {fmt.pct(v, 0)}")
    return im


@register("heatmap", fmt="png", phone=True)
def heatmap(exp, runs, pal):
    cells = _matrix_cells(runs)
    if not cells:
        fig, axes = new_fig(1.6)
        message(axes[0][0], "No matrix runs.", pal)
        return fig, "No technique × activation matrix in these runs.", "No matrix runs."
    datasets = list(cells)
    inits = list(dict.fromkeys(k[0] for d in datasets for k in cells[d]))
    acts = list(dict.fromkeys(k[1] for d in datasets for k in cells[d]))
    if narrow():        # datasets one under the other
        fig, axes = new_fig((0.3 * len(inits) + 1.3) * len(datasets) + 0.6, nrows=len(datasets), sharex=True)
    else:
        fig, axes = new_fig(0.3 * len(inits) + 1.5, ncols=len(datasets), sharey=True)
    cmap = plt.get_cmap("cividis").with_extremes(bad=pal["grid"])
    best_bits, partial = [], []
    im = None
    for d_i, dataset in enumerate(datasets):
        im = _heat_panel(axes.ravel()[d_i], dataset, cells[dataset], inits, acts, cmap, pal, partial, best_bits)
    cb = fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.9, aspect=30, pad=0.02,
                      location="bottom" if narrow() else "right")
    cb.set_label("mean final test accuracy")
    cb.outline.set_visible(False)
    (cb.ax.xaxis if narrow() else cb.ax.yaxis).set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    alt = ("Heat map of the mean final test accuracy (%) for each initialiser (rows) and activation (columns), "
           "one panel per dataset; " + "; ".join(best_bits) + ".")
    caption = ("Each cell is the test accuracy after training, averaged over seeds; compare a row across "
               "activations, and the heuristics against the pitfalls above them. \"diverged\": every seed "
               "diverged (the loss became NaN or infinite).")
    if partial:
        caption += " *: some seeds diverged and the mean is over the rest (" + "; ".join(partial) + ")."
        fig.supxlabel("* some seeds diverged; the mean is over the others", fontsize=9, color=pal["muted"])
    return fig, alt, caption


def _sweep_marks(ax, pal, cols, div_points):
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for x, name in ((1.0, "1 (LeCun,\nXavier for n_in = n_out)"), (math.sqrt(2), "√2 (He)")):
        ax.axvline(x, color=pal["muted"], linestyle=(0, (4, 3)), linewidth=1)
        ax.text(x * (0.93 if x == 1.0 else 1.07), 0.97, name, transform=trans, ha="right" if x == 1.0 else "left",
                va="top", fontsize=8.5, color=pal["muted"])
    for gain, k in div_points:
        # Neighbouring gains would make count labels collide; the caption lists the counts.
        ax.plot([gain], [0.86], marker="x", markersize=9, markeredgewidth=2, color=cols[k], transform=trans,
                linestyle="none", clip_on=False)


@register("sweep", fmt="svg", phone=True)
def sweep(exp, runs, pal):
    fig, axes = new_fig(3.5)
    ax = axes[0][0]
    cols = colours(pal)
    by_act: dict = {}
    for run, r in runs:
        gain = dict(run.config.init_params).get("gain")
        if gain is not None:
            by_act.setdefault(run.config.activation, []).append((float(gain), r))
    handles, labels, values, best, div_points = [], [], [], [], []
    curves = []
    for k, (act, items) in enumerate(by_act.items()):
        items.sort(key=lambda t: t[0])
        g = np.array([t[0] for t in items])
        m = np.array([mean(t[1]["final"]["loss"]) for t in items])
        lo = np.array([get(t[1]["final"]["loss"], "min") for t in items])
        hi = np.array([get(t[1]["final"]["loss"], "max") for t in items])
        ok = np.isfinite(m) & (m > 0) & np.isfinite(lo) & (lo > 0)
        values += list(lo[ok]) + list(hi[ok])
        (h,) = ax.plot(g[ok], m[ok], color=cols[k], marker=MARKERS[k], linestyle=LINESTYLES[k])
        curves.append((g[ok], m[ok]))
        ax.fill_between(g[ok], lo[ok], hi[ok], color=cols[k], alpha=0.18, linewidth=0)
        handles.append(h)
        labels.append(pretty(act))
        if ok.any():
            i = int(np.argmin(np.where(ok, m, np.inf)))
            best.append(f"{pretty(act)} lowest {fmt.num(m[i])} at gain {fmt.num(g[i])}")
        div_points += [(gain, k) for gain, r in items if r["diverged"]]
    ax.set_xscale("log")
    is_log = log_if_decades(ax, values, decades=0.5)
    if is_log:
        nice_log(ax)
    hidden = lies_on(curves, log=is_log)
    for j in hidden:
        put_on_top(handles[j])
    hidden_text = lies_on_text(list(labels), hidden)
    _sweep_marks(ax, pal, cols, div_points)
    ax.set_xlabel("gain g (weights N(0, g²/n_in))")
    ax.set_ylabel("final training loss")
    if div_points:
        handles.append(Line2D([], [], marker="x", color=pal["fg"], markersize=7, markeredgewidth=2,
                              linestyle="none"))
        labels.append("seeds diverged (not in the mean)")
    legend_below(fig, handles, labels)
    alt = ("Final training loss against the weight gain on a log axis, one line per activation; "
           + "; ".join(best) + ".")
    caption = ("Too small a gain and the signal never reaches the output; too large and units saturate or the "
               "loss explodes. The dashed lines mark the heuristics: gain 1 (LeCun; Xavier when fan-in equals "
               "fan-out) and √2 (He). Band: min–max over seeds." + hidden_text)
    div = diverged_text(runs)
    if div:
        caption += " " + div
    return fig, alt, caption


def _per_seed_drop(r: dict) -> list[float]:
    start = r["history"][0]["loss"]["values"]
    end = r["final"]["loss"]["values"]
    return [1.0 - e / s for s, e in zip(start, end) if s is not None and e is not None and s > 0]


def _depth_line(ax, k, items, cols, divs, lows, depths_all):
    """One (initialiser, activation) line over depth; returns its (depths, mean drops)."""
    d, m, lo, hi = [], [], [], []
    for depth, r in sorted(items, key=lambda t: t[0]):
        depths_all.add(depth)
        drops = _per_seed_drop(r)
        if r["diverged"]:
            divs.append((depth, k))
        start, end = mean(r["history"][0]["loss"]), mean(r["final"]["loss"])
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
    return h, d, m


@register("depth", fmt="svg", phone=True)
def depth(exp, runs, pal):
    fig, axes = new_fig(3.5)
    ax = axes[0][0]
    cols = colours(pal)
    groups: dict = {}
    for run, r in runs:
        groups.setdefault((run.config.activation, run.config.init), []).append((run.config.depth, r))
    handles, labels, bits, divs, lows = [], [], [], [], []
    depths_all: set = set()
    curves = []
    for k, ((act, init), items) in enumerate(groups.items()):
        h, d, m = _depth_line(ax, k, items, cols, divs, lows, depths_all)
        if d:
            bits.append(f"{pretty(init)}/{pretty(act)} {fmt.pct(m[-1], 0)} at depth {d[-1]}")
        handles.append(h)
        labels.append(f"{pretty(init)}, {pretty(act)}")
        curves.append((d, m))
    hidden = lies_on(curves)
    for j in hidden:
        put_on_top(handles[j])
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for x, k in divs:
        ax.plot([x], [0.95], marker="x", markersize=9, markeredgewidth=2, color=cols[k % 8],
                transform=trans, linestyle="none", clip_on=False)
    ax.axhline(0, color=pal["muted"], linewidth=0.8)
    ax.set_xticks(sorted(depths_all))
    ax.set_xlabel("hidden layers")
    ax.set_ylabel("share of initial loss removed\n1 − L_final / L_0")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.set_ylim(min([-0.05] + [v - 0.05 for v in lows]), 1.02)
    legend_below(fig, handles, labels, ncol=2)
    epochs = sorted({run.config.epochs for run, _ in runs})
    alt = ("Share of the initial training loss removed after training against network depth, one line per "
           "initialiser and activation; " + "; ".join(bits) + ".")
    caption = (f"After {', '.join(map(str, epochs))} epochs, how much of the starting loss each network has "
               "removed (0% = it did not train). Band: min–max over seeds." + lies_on_text(labels, hidden))
    div = diverged_text(runs)
    if div:
        caption += " " + div + " Crosses mark depths with a diverged seed."
    return fig, alt, caption


# Fixed colour/marker per initialiser on the depth axis, so He and Glorot look the same in every panel.
_AXIS_ORDER = ("he_normal", "glorot_normal", "small_random")


def _axis_values(r, key: str = "test_accuracy") -> list[float]:
    """Per-seed final values of ``key`` (diverged seeds are missing in the result)."""
    return [v for v in (r["final"][key].get("values") or []) if v is not None and math.isfinite(v)]


# What each depth-axis figure plots: (result key, axis label, caption phrase).
_AXIS_METRICS = {"test_accuracy": ("test accuracy", "Test accuracy"),
                 "loss": ("final training loss", "Final training loss")}


def _axis_figure(runs, pal, key: str):
    """One panel per activation, one line per initialiser, ``key`` against depth, each cell at its own chosen
    learning rate (role "axis")."""
    axis = [(run, r) for run, r in runs if run.role == "axis"]
    acts = list(dict.fromkeys(run.config.activation for run, _ in axis))
    n = max(1, len(acts))
    ncols = 1 if narrow() else min(n, 2)
    nrows = math.ceil(n / ncols)
    fig, axes = new_fig(2.9 * nrows, ncols=ncols, nrows=nrows, sharey=True)
    flat = list(axes.ravel())
    cols = colours(pal)
    handles: dict = {}
    bits = []
    label, phrase = _AXIS_METRICS[key]
    top = 0.0
    for ax, act in zip(flat, acts):
        cells: dict = {}
        for run, r in axis:
            if run.config.activation == act:
                cells.setdefault(run.config.init, []).append((run.config.depth, r))
        for init, items in cells.items():
            k = _AXIS_ORDER.index(init) if init in _AXIS_ORDER else len(_AXIS_ORDER)
            items.sort(key=lambda t: t[0])
            d = [depth for depth, _ in items]
            vals = [_axis_values(r, key) for _, r in items]
            m = [float(np.mean(v)) if v else np.nan for v in vals]
            top = max([top] + [max(v) for v in vals if v])
            (h,) = ax.plot(d, m, color=cols[k % 8], marker=MARKERS[k % 8], linestyle=LINESTYLES[k % 4])
            ax.fill_between(d, [min(v) if v else np.nan for v in vals], [max(v) if v else np.nan for v in vals],
                            color=cols[k % 8], alpha=0.15, linewidth=0)
            handles.setdefault(init, h)
            if m and math.isfinite(m[-1]):
                shown = fmt.pct(m[-1], 0) if key == "test_accuracy" else fmt.num(m[-1])
                bits.append(f"{pretty(init)} with {pretty(act)}: {shown} at {d[-1]} layers")
        k_classes = _n_classes(axis[0][0].config.dataset) if axis else 10
        level = 1 / k_classes if key == "test_accuracy" else math.log(k_classes)
        ax.axhline(level, color=pal["muted"], linewidth=0.8, linestyle=":")
        ax.set_title(pretty(act))
        ax.set_xticks(sorted({run.config.depth for run, _ in axis}))
        if key == "test_accuracy":
            ax.set_ylim(0, 1.02)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("hidden layers")
    if key != "test_accuracy":
        flat[0].set_ylim(0, max(top, math.log(10)) * 1.05)
    for ax in flat[len(acts):]:
        ax.set_visible(False)
    for row in axes:
        row[0].set_ylabel(label)
    legend_below(fig, list(handles.values()), [pretty(i) for i in handles], ncol=len(handles))
    seeds = sorted({len(run.config.seeds) for run, _ in axis})
    epochs = sorted({run.config.epochs for run, _ in axis})
    alt = (f"{phrase} against depth, one panel per activation, one line per initialiser; " + "; ".join(bits) + ".")
    dotted = "chance" if key == "test_accuracy" else "ln K, the loss of predicting every class equally (no learning)"
    caption = (f"{phrase} after {', '.join(map(str, epochs))} epochs against the number of hidden layers. Each point "
               "is one (initialiser, activation, depth) cell at its own learning rate, chosen on a validation split "
               f"(table below); line: mean over {', '.join(map(str, seeds))} seeds, band: min–max over seeds; "
               f"dotted: {dotted}.")
    div = diverged_text(axis)
    if div:
        caption += " " + div
    return fig, alt, caption


@register("depth_axis", fmt="svg", phone=True, axis=True)
def depth_axis(exp, runs, pal):
    """Held-out accuracy against depth per activation (the "works best" claims)."""
    return _axis_figure(runs, pal, "test_accuracy")


@register("depth_axis_loss", fmt="svg", phone=True, axis=True)
def depth_axis_loss(exp, runs, pal):
    """Final training loss against depth per activation (the "trains / stalls" claims)."""
    return _axis_figure(runs, pal, "loss")
