"""Figure kinds per hidden layer: std with the theory line, saturation, weight change, unit spread.

The per-layer histograms are in :mod:`.distributions`."""

from __future__ import annotations

import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from .. import fmt, initializers
from .registry import register
from .style import (ON_TOP, colours, fig_width, panels, diverged_text, finite, get, layer_axis, legend_below, lies_on,
                    lies_on_text, mean, narrow, new_fig, nice_log, pretty, run_styles)


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


# The theory line reads each initialiser's law (its theoretical std) from the registry; that law
# is part of each run's key (keys.initializer_fingerprint), so a change to it re-renders this kind.
@register("layer_std", fmt="svg", phone=True)
def layer_std(exp, runs, pal):
    fig, (ax_a, ax_g) = panels(3.6)
    cols = colours(pal)
    handles, labels = [], []
    n_max, any_theory = 1, False
    alt_bits, all_a, all_g = [], [], []
    drawn, theory_on = [], []
    for run, r in runs:
        x = np.arange(1, len(r["layers"]) + 1)
        drawn.append((finite(x, [mean(layer["activation_std"]) for layer in r["layers"]], positive=True),
                      finite(x, [mean(layer["gradient_std"]) for layer in r["layers"]], positive=True)))
    hid_a = lies_on([d[0] for d in drawn], log=True)
    hid_g = lies_on([d[1] for d in drawn], log=True)
    for k, ((run, r), (ci, ls, mk), ((xa, ya), (xg, yg))) in enumerate(zip(runs, run_styles(runs), drawn)):
        layers = r["layers"]
        n_max = max(n_max, len(layers))
        x = np.arange(1, len(layers) + 1)
        all_a += list(ya)
        all_g += list(yg)
        (h,) = ax_a.plot(xa, ya, color=cols[ci], **_line_kw(k in hid_a, mk, cols[ci]))
        ax_g.plot(xg, yg, color=cols[ci], **_line_kw(k in hid_g, mk, cols[ci]))
        handles.append(h)
        labels.append(pretty(run.label))
        theory = _theory_std(run, r)
        if theory is not None and len(xa) == len(layers):
            ax_a.plot(x, theory, color=cols[ci], linestyle=(0, (2, 2)), linewidth=1.3, alpha=0.9)
            any_theory = True
            if lies_on([(xa, ya), (x, np.asarray(theory))], log=True):
                theory_on.append(pretty(run.label))
        if len(ya):
            alt_bits.append(f"{pretty(run.label)} {fmt.num(ya[0])} → {fmt.num(ya[-1])}")
    for ax, vals, title in ((ax_a, all_a, "spread of the activations\n(forward), std of a"),
                            (ax_g, all_g, "spread of the gradients (backward),\nstd of dL/dZ")):
        if vals:
            ax.set_yscale("log")
        layer_axis(ax, n_max)
        ax.set_title(title)
    ax_a.set_ylabel("std at initialisation")
    if narrow():
        ax_g.set_ylabel("std at initialisation")
    if any_theory:
        handles.append(Line2D([], [], color=pal["fg"], linestyle=(0, (2, 2)), linewidth=1.3))
        labels.append("theory from layer 1")
    legend_below(fig, handles, labels)
    alt = (f"Two line charts over the {n_max} hidden layers at initialisation, log scale: activation std "
           f"(layer 1 → {n_max}: " + "; ".join(alt_bits[:4]) + ") and back-propagated gradient std.")
    caption = ("\"Spread of the activations\": the std of each hidden layer's outputs for the same input batch; "
               "\"spread of the gradients\": the std of the gradient flowing back into each layer. Activations flow from "
               "layer 1 onward, so an activation line that falls steadily on the log scale is the signal vanishing "
               "(rising: exploding); gradients flow back from the last layer, so a gradient line that rises toward "
               "the last layer is the gradient vanishing on its way back to layer 1.")
    if any_theory:
        caption += (" Thin dashed: the variance argument started from the measured layer 1 "
                    "(ReLU ×√(n_in σ²/2) per layer, tanh in its linear regime ×σ√n_in).")
        if theory_on:
            caption += (" The theory line lies on the measured one (within 1% of the axis; the argument predicts "
                        "every layer) for: " + "; ".join(theory_on) + ".")
    names = [pretty(run.label) for run, _ in runs]
    both = {j: i for j, i in hid_a.items() if hid_g.get(j) == i}
    caption += (lies_on_text(names, both, "in both panels")
                + lies_on_text(names, {j: i for j, i in hid_a.items() if j not in both}, "in the activations panel")
                + lies_on_text(names, {j: i for j, i in hid_g.items() if j not in both}, "in the gradients panel"))
    return fig, alt, caption


def _line_kw(on_top: bool, marker: str, colour) -> dict:
    """A run's line: solid, or dashed with hollow markers on top when it lies on an earlier run's line."""
    if on_top:
        return {"linestyle": ON_TOP, "marker": marker, "markerfacecolor": "none", "zorder": 3, "markersize": 7}
    return {"linestyle": "-", "marker": marker}



@register("saturation", fmt="svg", phone=True)
def saturation(exp, runs, pal):
    fig, axes = new_fig(3.5)
    ax = axes[0][0]
    cols = colours(pal)
    usable = [(run, r) for run, r in runs
              if any(math.isfinite(mean(layer["saturated_fraction"])) for layer in r["layers"])]
    skipped = [run for run, r in runs if not any(run is u for u, _ in usable)]
    handles, labels, bits = [], [], []
    n_max = 1
    drawn = [finite(np.arange(1, len(r["layers"]) + 1), [mean(layer["saturated_fraction"]) for layer in r["layers"]])
             for _, r in usable]
    hidden = lies_on(drawn)
    for k, ((run, r), (ci, ls, mk), (xs, ys)) in enumerate(zip(usable, run_styles(usable), drawn)):
        n_max = max(n_max, len(r["layers"]))
        kw = _line_kw(True, mk, cols[ci]) if k in hidden else {"linestyle": ls, "marker": mk}
        (h,) = ax.plot(xs, ys, color=cols[ci], **kw)
        handles.append(h)
        labels.append(pretty(run.label))
        if len(ys):
            bits.append(f"{pretty(run.label)} {fmt.pct(float(np.mean(ys)), 0)}")
    layer_axis(ax, n_max)
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("share of saturated outputs\nat initialisation")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    legend_below(fig, handles, labels, ncol=2 if len(labels) > 4 else None)
    alt = "Share of saturated hidden-unit outputs per layer at initialisation; mean over layers: " + ", ".join(bits) + "."
    caption = ("Share of the hidden units' outputs on the diagnostic batch that are saturated (|tanh| > 0.99, or "
               "sigmoid < 0.01 or > 0.99); a saturated unit passes almost no gradient back.")
    if skipped:
        caption += " Not defined for " + ", ".join(pretty(run.label) for run in skipped) + " (not plotted)."
    caption += lies_on_text([pretty(run.label) for run, _ in usable], hidden)
    return fig, alt, caption


# ---------------------------------------------------------------------------------------
# Values after training, with exact zeros marked


def _zero_axes(n_zero_runs: int):
    """The main axis, and a strip below it for exact zeros when there are any (else None)."""
    if n_zero_runs:
        strip = 0.28 + 0.17 * n_zero_runs
        fig, axes = plt.subplots(2, 1, figsize=(fig_width(), 3.3 + strip), layout="constrained", sharex=True,
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

    Returns (fig, bits, zeros_any, skipped runs, runs without a value, epochs, caption text on curves
    lying on each other).
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
    # Curves on the log axis (positive values) and rows of the zero strip that lie on each other.
    hidden = lies_on([(np.arange(1, len(y) + 1)[np.isfinite(y) & (y > 0)], y[np.isfinite(y) & (y > 0)])
                      for _, _, y in series], log=True)
    fig, ax, ax0 = _zero_axes(len(zero_rows))
    cols = colours(pal)
    handles, labels, bits, none_runs, positives = [], [], [], [], []
    for i, ((run, epoch, y), (ci, ls, mk)) in enumerate(zip(series, run_styles(used))):
        x = np.arange(1, len(y) + 1)
        pos = np.isfinite(y) & (y > 0)
        zero = np.isfinite(y) & (y == 0)
        positives += list(y[pos])
        kw = _line_kw(True, mk, cols[ci]) if i in hidden else {"linestyle": ls, "marker": mk, "markersize": 5}
        (h,) = ax.plot(x[pos], y[pos], color=cols[ci], **kw)
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
    hidden_text = lies_on_text([pretty(run.label) for run, _, _ in series], hidden)
    return fig, bits, bool(zero_rows), skipped, none_runs, epochs, hidden_text


@register("weight_change", fmt="svg", phone=True)
def weight_change(exp, runs, pal):
    fig, bits, zeros_any, _, none_runs, epochs, hidden_text = _zero_marked_layers(
        runs, pal, "max_abs_change", "0\n(unchanged)", "largest change of a weight,\n|W_t − W_0| (max over seeds)")
    alt = ("Largest change of any hidden weight after training, per layer, log scale: " + ", ".join(bits) + ".")
    caption = (f"How far the hidden weights moved from their initial values by the end of training (epoch "
               f"{', '.join(map(str, epochs))}); the largest entry of |W_t − W_0| over the layer and the seeds.")
    if zeros_any:
        caption += " Hollow markers in the strip below the axis: exactly 0, the weights did not change by a single bit."
    if none_runs:
        caption += " No value for " + ", ".join(pretty(run.label) for run in none_runs) + " (every seed diverged)."
    caption += hidden_text
    div = diverged_text(runs)
    if div:
        caption += " " + div
    return fig, alt, caption


@register("unit_spread", fmt="svg", phone=True)
def unit_spread(exp, runs, pal):
    one_unit = lambda r: min(r["sizes"][1:-1] or [0]) <= 1   # noqa: E731
    fig, bits, zeros_any, skipped, none_runs, epochs, hidden_text = _zero_marked_layers(
        runs, pal, "relative_unit_spread", "0\n(identical)", "distance between units' weights\n÷ their norm (max over seeds)",
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
    caption += hidden_text
    return fig, alt, caption
