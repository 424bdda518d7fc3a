"""Figure kinds per hidden layer: std with the theory line, histograms, saturation, weight change, unit spread."""

from __future__ import annotations

import math

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from .. import fmt, initializers
from .registry import register
from .style import (WIDTH_IN, colours, diverged_text, finite, get, layer_axis, layer_cmap, legend_below,
                    mean, message, new_fig, nice_log, pretty, run_styles, wrap)


def _theory_std(run, r: dict) -> list[float] | None:
    """Activation std per layer predicted from the measured first layer, or None.

    ReLU with zero-mean weights and zero biases: Var(Z_l) = n_in·Var(W)/2 · Var(Z_{l−1}), so the
    std is multiplied by √(n_in σ²/2) per layer (He et al. 2015). tanh with small weights (linear
    regime, n_in σ² ≤ 1): ×σ√n_in per layer.
    """
    c = run.config
    if c.activation not in ("relu", "tanh") or c.bias not in (None, 0, 0.0):
        return None
    layers = r["layers"]
    if not layers:
        return None
    info = initializers.get_info(c.init)
    params = dict(c.init_params)
    if (info.default_bias != 0 or c.init in initializers.RANDOM_BIAS) and c.bias is None:   # theory assumes b = 0
        return None
    start = mean(layers[0]["activation_std"])
    if not (math.isfinite(start) and start > 0):
        return None
    out, value = [start], start
    for layer in layers[1:]:
        fan_in, fan_out = layer["fan_in"], layer["fan_out"]
        if info.mean(fan_in, fan_out, **params) != 0:
            return None
        sigma = info.std(fan_in, fan_out, **params)
        gain2 = fan_in * sigma * sigma
        if c.activation == "relu":
            value *= math.sqrt(gain2 / 2)
        else:
            if gain2 > 1 + 1e-9:
                return None
            value *= math.sqrt(gain2)
        out.append(value)
    return out


# The theory line reads each initialiser's law (its theoretical std) from the registry, which is
# not part of a run's own code: the initialiser module counts for this kind.
@register("layer_std", fmt="svg", depends=(initializers,))
def layer_std(exp, runs, pal):
    fig, axes = new_fig(3.6, ncols=2)
    ax_a, ax_g = axes[0]
    cols = colours(pal)
    handles, labels = [], []
    n_max, any_theory = 1, False
    alt_bits, all_a, all_g = [], [], []
    for (run, r), (ci, ls, mk) in zip(runs, run_styles(runs)):
        layers = r["layers"]
        n_max = max(n_max, len(layers))
        x = np.arange(1, len(layers) + 1)
        xa, ya = finite(x, [mean(layer["activation_std"]) for layer in layers], positive=True)
        xg, yg = finite(x, [mean(layer["gradient_std"]) for layer in layers], positive=True)
        all_a += list(ya)
        all_g += list(yg)
        (h,) = ax_a.plot(xa, ya, color=cols[ci], linestyle="-", marker=mk)
        ax_g.plot(xg, yg, color=cols[ci], linestyle="-", marker=mk)
        handles.append(h)
        labels.append(pretty(run.label))
        theory = _theory_std(run, r)
        if theory is not None and len(xa) == len(layers):
            ax_a.plot(x, theory, color=cols[ci], linestyle=(0, (2, 2)), linewidth=1.3, alpha=0.9)
            any_theory = True
        if len(ya):
            alt_bits.append(f"{pretty(run.label)} {fmt.num(ya[0])} → {fmt.num(ya[-1])}")
    for ax, vals, title in ((ax_a, all_a, "activation std (forward)"),
                            (ax_g, all_g, "gradient std ∂L/∂Z (backward)")):
        if vals:
            ax.set_yscale("log")
        layer_axis(ax, n_max)
        ax.set_title(title)
    ax_a.set_ylabel("std at initialisation")
    if any_theory:
        handles.append(Line2D([], [], color=pal["fg"], linestyle=(0, (2, 2)), linewidth=1.3))
        labels.append("theory from layer 1")
    legend_below(fig, handles, labels)
    alt = (f"Two line charts over the {n_max} hidden layers at initialisation, log scale: activation std "
           f"(layer 1 → {n_max}: " + "; ".join(alt_bits[:4]) + ") and back-propagated gradient std.")
    caption = ("Left: the spread of each hidden layer's outputs for the same input batch; right: the spread of "
               "the gradient flowing back into each layer. A line that falls steadily on the log scale is a "
               "signal vanishing (or, rising, exploding) with depth.")
    if any_theory:
        caption += (" Dashed: the variance argument started from the measured layer 1 "
                    "(ReLU ×√(n_in σ²/2) per layer, tanh in its linear regime ×σ√n_in).")
    return fig, alt, caption


def _hist_panels(runs, axes, ncols, key, same_x, pal, cmap, norm):
    """One histogram panel per run, one line per layer."""
    for i, (run, r) in enumerate(runs):
        ax = axes[i // ncols][i % ncols]
        drawn = 0
        for layer in r["layers"]:
            h = layer.get(key)
            if not h:
                continue
            edges = np.asarray([np.nan if e is None else e for e in h["edges"]], float)
            frac = np.asarray([np.nan if f is None else f for f in h["fraction"]], float)
            xs, ys = finite((edges[:-1] + edges[1:]) / 2, frac)
            if not len(xs):
                continue
            ax.plot(xs, ys, color=cmap(norm(layer["layer"])), linewidth=1.3)
            drawn += 1
        ax.set_title(wrap(pretty(run.label), ncols), fontsize=9.5)
        if not drawn:
            message(ax, "no histogram\n(all seeds diverged)", pal)
            continue
        if not same_x:
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3), useMathText=True)
            ax.xaxis.get_offset_text().set_fontsize(8.5)
        ax.tick_params(axis="both", labelsize=8.5)
        ax.locator_params(axis="x", nbins=4)


def _hist_figure(runs, pal, key: str):
    n = len(runs)
    ncols = min(n, 4)
    nrows = math.ceil(n / ncols)
    edges_all = [tuple(layer[key]["edges"]) for _, r in runs for layer in r["layers"] if layer.get(key)]
    same_x = key == "activation_hist" and len(set(edges_all)) == 1
    fig, axes = new_fig(1.95 * nrows + 0.85, ncols=ncols, nrows=nrows, sharex=same_x, sharey=same_x)
    cmap = layer_cmap(pal)
    n_layers = max(len(r["layers"]) for _, r in runs)
    norm = mcolors.Normalize(vmin=1, vmax=max(2, n_layers))
    _hist_panels(runs, axes, ncols, key, same_x, pal, cmap, norm)
    for j in range(n, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    fig.supxlabel("activation value" if key == "activation_hist" else "gradient ∂L/∂Z", fontsize=9.5)
    fig.supylabel("fraction per bin", fontsize=9.5)
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=axes.ravel().tolist(), location="right", shrink=0.85, aspect=25, pad=0.01)
    cb.set_label("hidden layer")
    cb.outline.set_visible(False)
    cb.set_ticks(sorted({1, n_layers, *range(1, n_layers + 1, max(1, n_layers // 5))}))
    noun = "activations" if key == "activation_hist" else "back-propagated gradients"
    alt = (f"Histograms of the {noun} of each hidden layer at initialisation, one panel per run "
           f"({', '.join(pretty(run.label) for run, _ in runs[:4])}{', …' if n > 4 else ''}), one line per layer "
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
        if any(run.config.activation in ("relu", "leaky_relu") for run, _ in runs):
            caption += " With ReLU the spike at 0 is the units that are off, which pass no gradient."
    return fig, alt, caption


@register("activation_hist", fmt="png")
def activation_hist(exp, runs, pal):
    return _hist_figure(runs, pal, "activation_hist")


@register("gradient_hist", fmt="png")
def gradient_hist(exp, runs, pal):
    return _hist_figure(runs, pal, "gradient_hist")


@register("saturation", fmt="svg")
def saturation(exp, runs, pal):
    fig, axes = new_fig(3.5)
    ax = axes[0][0]
    cols = colours(pal)
    usable = [(run, r) for run, r in runs
              if any(math.isfinite(mean(layer["saturated_fraction"])) for layer in r["layers"])]
    skipped = [run for run, r in runs if not any(run is u for u, _ in usable)]
    handles, labels, bits = [], [], []
    n_max = 1
    for (run, r), (ci, ls, mk) in zip(usable, run_styles(usable)):
        x = np.arange(1, len(r["layers"]) + 1)
        n_max = max(n_max, len(x))
        xs, ys = finite(x, [mean(layer["saturated_fraction"]) for layer in r["layers"]])
        (h,) = ax.plot(xs, ys, color=cols[ci], linestyle=ls, marker=mk)
        handles.append(h)
        labels.append(pretty(run.label))
        if len(ys):
            bits.append(f"{pretty(run.label)} {fmt.pct(float(np.mean(ys)), 0)}")
    layer_axis(ax, n_max)
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("saturated outputs at init")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    legend_below(fig, handles, labels, ncol=2 if len(labels) > 4 else None)
    alt = "Share of saturated hidden-unit outputs per layer at initialisation; mean over layers: " + ", ".join(bits) + "."
    caption = ("Share of the hidden units' outputs on the diagnostic batch that are saturated (|tanh| > 0.99, or "
               "sigmoid < 0.01 or > 0.99); a saturated unit passes almost no gradient back.")
    if skipped:
        caption += " Not defined for " + ", ".join(pretty(run.label) for run in skipped) + " (not plotted)."
    return fig, alt, caption


# ---------------------------------------------------------------------------------------
# Values after training, with exact zeros marked


def _zero_axes(n_zero_runs: int):
    """The main axis, and a strip below it for exact zeros when there are any (else None)."""
    if n_zero_runs:
        strip = 0.28 + 0.17 * n_zero_runs
        fig, axes = plt.subplots(2, 1, figsize=(WIDTH_IN, 3.3 + strip), layout="constrained", sharex=True,
                                 gridspec_kw={"height_ratios": [3.0, strip], "hspace": 0.0})
        return fig, axes[0], axes[1]
    fig, axes = new_fig(3.5)
    return fig, axes[0][0], None


def _finish_zero_axes(ax, ax0, positives, n_zero_runs, n_max, zero_word, ylabel, pal):
    if positives:
        ax.set_yscale("log")
        ax.set_ylim(10.0 ** math.floor(math.log10(min(positives))) / 1.15,
                    10.0 ** math.ceil(math.log10(max(positives))) * 1.15)
        nice_log(ax)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no non-zero value", transform=ax.transAxes, ha="center", va="center",
                color=pal["muted"])
    ax.set_ylabel(ylabel)
    if ax0 is not None:
        ax0.set_ylim(-0.6, n_zero_runs - 0.4)
        ax0.set_yticks([])
        ax0.set_ylabel(zero_word, rotation=0, ha="right", va="center")
        ax0.grid(axis="y", visible=False)
        ax0.spines["top"].set_visible(True)
        ax0.spines["top"].set_linestyle((0, (3, 3)))
        ax.tick_params(axis="x", labelbottom=False)
        layer_axis(ax0, n_max)
        ax.set_xlabel("")
    else:
        layer_axis(ax, n_max)


def _zero_marked_layers(runs, pal, stat: str, zero_word: str, ylabel: str, skip=lambda r: False):
    """Per-layer values at the last checkpoint on a log axis; exact zeros in a strip below it.

    Returns (fig, bits, zeros_any, skipped runs, runs without a value, epochs).
    """
    used = [(run, r) for run, r in runs if not skip(r)]
    skipped = [run for run, r in runs if skip(r)]
    series, n_max = [], 1
    for run, r in used:
        cp = r["checkpoints"][-1] if r["checkpoints"] else {"layers": [], "epoch": 0}
        y = np.asarray([get(layer[stat], "max") for layer in cp["layers"]], float)
        n_max = max(n_max, len(y))
        series.append((run, cp["epoch"], y))
    zero_rows = [i for i, (_, _, y) in enumerate(series) if np.any(np.isfinite(y) & (y == 0))]
    fig, ax, ax0 = _zero_axes(len(zero_rows))
    cols = colours(pal)
    handles, labels, bits, none_runs, positives = [], [], [], [], []
    for i, ((run, epoch, y), (ci, ls, mk)) in enumerate(zip(series, run_styles(used))):
        x = np.arange(1, len(y) + 1)
        pos = np.isfinite(y) & (y > 0)
        zero = np.isfinite(y) & (y == 0)
        positives += list(y[pos])
        (h,) = ax.plot(x[pos], y[pos], color=cols[ci], linestyle=ls, marker=mk, markersize=5)
        if zero.any():
            row = len(zero_rows) - 1 - zero_rows.index(i)
            ax0.plot(x[zero], np.full(zero.sum(), row), color=cols[ci], linestyle=ls, marker=mk, markersize=7,
                     markerfacecolor="none", markeredgewidth=1.4)
        handles.append(h)
        labels.append(pretty(run.label))
        if pos.any() or zero.any():
            bits.append(f"{pretty(run.label)} {fmt.num(float(np.max(y[pos | zero])))}")
        else:
            none_runs.append(run)
            bits.append(f"{pretty(run.label)} n/a")
    _finish_zero_axes(ax, ax0, positives, len(zero_rows), n_max, zero_word, ylabel, pal)
    legend_below(fig, handles, labels, ncol=3 if len(labels) > 4 else None)
    epochs = sorted({e for _, e, _ in series})
    return fig, bits, bool(zero_rows), skipped, none_runs, epochs


@register("weight_change", fmt="svg")
def weight_change(exp, runs, pal):
    fig, bits, zeros_any, _, none_runs, epochs = _zero_marked_layers(
        runs, pal, "max_abs_change", "0\n(unchanged)", "largest |W_t − W_0|\n(max over seeds)")
    alt = ("Largest change of any hidden weight after training, per layer, log scale: " + ", ".join(bits) + ".")
    caption = (f"How far the hidden weights moved from their initial values by the end of training (epoch "
               f"{', '.join(map(str, epochs))}); the largest entry of |W_t − W_0| over the layer and the seeds.")
    if zeros_any:
        caption += " Hollow markers in the strip below the axis: exactly 0, the weights did not change by a single bit."
    if none_runs:
        caption += " No value for " + ", ".join(pretty(run.label) for run in none_runs) + " (every seed diverged)."
    div = diverged_text(runs)
    if div:
        caption += " " + div
    return fig, alt, caption


@register("unit_spread", fmt="svg")
def unit_spread(exp, runs, pal):
    one_unit = lambda r: min(r["sizes"][1:-1] or [0]) <= 1   # noqa: E731
    fig, bits, zeros_any, skipped, none_runs, epochs = _zero_marked_layers(
        runs, pal, "relative_unit_spread", "0\n(identical)", "unit spread / unit weight norm\n(max over seeds)",
        skip=one_unit)
    alt = ("Largest distance between two units' incoming weight vectors relative to their length, per hidden layer "
           "after training, log scale: " + ", ".join(bits) + ".")
    caption = (f"After training (epoch {', '.join(map(str, epochs))}): how different the units of a layer are. "
               "Random starts give spreads of order 1.")
    if zeros_any:
        caption += " Hollow markers in the strip below the axis: exactly 0, every unit is an identical copy of the others."
    if skipped:
        caption += " Not shown: " + ", ".join(pretty(run.label) for run in skipped) + " (one unit per layer, nothing to compare)."
    if none_runs:
        caption += " No value for " + ", ".join(pretty(run.label) for run in none_runs) + " (every seed diverged)."
    return fig, alt, caption
