"""Per-layer statistics over training: the spread of activations and gradients at each checkpoint."""

from __future__ import annotations

import math

import numpy as np

from .. import fmt
from .registry import register
from .style import (finite, get, layer_axis, layer_cmap, legend_below, lies_on, lies_on_text, mean, message, narrow, new_fig,
                    pretty, put_on_top)

STATS = (("activation_std", "spread of the activations, std of a"),
         ("gradient_std", "spread of the gradients, std of dL/dZ"))


def _epoch_colours(pal, n: int) -> list:
    cmap = layer_cmap(pal)
    return [cmap(0.5 if n == 1 else i / (n - 1)) for i in range(n)]


def _panel(ax, run, r, stat, pal, handles, labels, notes):
    """One run's statistic per layer, one line per checkpoint, the seeds' min–max as a band."""
    cps = r["checkpoints"]
    cols = _epoch_colours(pal, len(cps))
    curves, lines, values = [], [], []
    for cp, colour in zip(cps, cols):
        x = np.arange(1, len(cp["layers"]) + 1)
        xs, ys = finite(x, [mean(layer[stat]) for layer in cp["layers"]], positive=True)
        lo = np.asarray([get(layer[stat], "min") for layer in cp["layers"]], float)
        hi = np.asarray([get(layer[stat], "max") for layer in cp["layers"]], float)
        band = np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
        (h,) = ax.plot(xs, ys, color=colour, marker="o", markersize=4)
        if r["n_seeds"] > 1 and band.any():
            ax.fill_between(x[band], lo[band], hi[band], color=colour, alpha=0.2, linewidth=0)
        values += list(ys) + list(lo[band]) + list(hi[band])
        curves.append((xs, ys))
        lines.append(h)
        label = f"epoch {cp['epoch']}" + (" (initialisation)" if cp["epoch"] == 0 else "")
        if label not in labels:
            handles.append(h)
            labels.append(label)
    if not any(len(c[0]) for c in curves):
        message(ax, "no values (every seed diverged, or all exactly 0)", pal)
        return
    ax.set_yscale("log")
    layer_axis(ax, max(len(cp["layers"]) for cp in cps))
    hidden = lies_on(curves, log=True)
    for j in hidden:
        put_on_top(lines[j])
    if hidden:
        names = [f"epoch {cp['epoch']}" for cp in cps]
        notes.append(f"{pretty(run.label)}, {stat.replace('_', ' ')}:" + lies_on_text(names, hidden).rstrip("."))


@register("layer_std_training", fmt="svg", phone=True)
def layer_std_training(exp, runs, pal):
    shown = [(run, r) for run, r in runs if len(r["checkpoints"]) >= 2]
    if not shown:
        fig, axes = new_fig(1.6)
        message(axes[0][0], "No checkpoints after initialisation recorded.", pal)
        return (fig, "No per-layer statistics were recorded during training.",
                "No run of this experiment recorded checkpoints after initialisation.")
    n = len(shown)
    if narrow():
        fig, axes = new_fig(2.5 * 2 * n + 0.6, nrows=2 * n, sharex=False)
        grid = [(axes[2 * i][0], axes[2 * i + 1][0]) for i in range(n)]
    else:
        fig, axes = new_fig(2.6 * n + 0.6, ncols=2, nrows=n)
        grid = [(axes[i][0], axes[i][1]) for i in range(n)]
    handles, labels, notes, bits = [], [], [], []
    for (run, r), pair in zip(shown, grid):
        for ax, (stat, title) in zip(pair, STATS):
            _panel(ax, run, r, stat, pal, handles, labels, notes)
            ax.set_title(f"{pretty(run.label)}\n{title}", fontsize=9.5)
        pair[0].set_ylabel("std (log scale)")
        first, last = r["checkpoints"][0], r["checkpoints"][-1]
        a0 = [mean(layer["activation_std"]) for layer in first["layers"]]
        a1 = [mean(layer["activation_std"]) for layer in last["layers"]]
        if a0 and a1 and math.isfinite(a0[-1]) and math.isfinite(a1[-1]):
            bits.append(f"{pretty(run.label)}: last hidden layer's activation std {fmt.num(a0[-1], 2)} at epoch 0, "
                        f"{fmt.num(a1[-1], 2)} at epoch {last['epoch']}")
    legend_below(fig, handles, labels)
    alt = ("Activation and gradient std per hidden layer at each checkpoint of training, log scale, one row per "
           "run; " + "; ".join(bits[:4]) + ".")
    caption = ("How the spread of each layer's outputs (\"spread of the activations\") and of the gradient reaching "
               "it (\"spread of the gradients\") changes during training: one line per checkpoint, lighter for later "
               "epochs; band: min–max over seeds. A later line away from the epoch-0 line is the network leaving "
               "its initial scale.")
    if notes:
        caption += " " + " ".join(notes) + "."
    return fig, alt, caption
