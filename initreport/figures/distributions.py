"""Per-layer distributions at initialisation: one row per hidden layer, a shared x axis per run.

Each run is a block of small panels stacked like a ridgeline (as in the CS231n and makemore
diagnostics): row l is hidden layer l's histogram, scaled to its own peak, and the layer's
standard deviation is written beside its row. All rows of a run share one linear x axis, so a
distribution that shrinks with depth becomes a narrower and narrower spike and one that grows
fills the axis. The narrow-screen layout stacks the runs in one column.
"""

from __future__ import annotations

import math

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np

from .. import fmt
from .registry import register
from .style import layer_cmap, mean, pretty, wrap

ROW_IN = 0.3            # height of one layer's row (inches)
TITLE_IN = 0.32         # a run's title (one line)
TICKS_IN = 0.5          # x tick labels and their ×10ⁿ offset below a run's rows
XLABEL_IN = 0.3         # the x axis label at the bottom of the figure
LEFT_IN = 0.62          # "layer 1" labels
RIGHT_IN = 0.95         # the std column
STAT_OF = {"activation_hist": "activation_std", "gradient_hist": "gradient_std"}
XLABEL = {"activation_hist": "activation value, the output of a hidden layer (a)",
          "gradient_hist": "gradient of the loss w.r.t. a layer's pre-activations (dL/dZ)"}


def _layer_curve(layer: dict, key: str):
    """One layer's histogram scaled for its row, or None: {"x", "y", "lo", "hi", "zero_cut"}.

    ``y`` is the fraction per bin over the row's peak. When the bin holding 0 is more than twice
    as high as every other bin (ReLU units that are off pass exactly 0), the row is scaled to the
    other bins and that bin is cut at the top of the row (``zero_cut``: its share of the values).
    ``lo``/``hi``: the 0.5th and 99.5th percentiles read from the bins.
    """
    h = layer.get(key)
    if not h:
        return None
    edges = np.asarray([np.nan if e is None else e for e in h["edges"]], float)
    frac = np.asarray([np.nan if f is None else f for f in h["fraction"]], float)
    if len(edges) != len(frac) + 1 or not np.all(np.isfinite(edges)) or not np.all(np.isfinite(frac)):
        return None
    total = frac.sum()
    if not total > 0:
        return None
    centres = (edges[:-1] + edges[1:]) / 2
    top = int(np.argmax(frac))
    if frac[top] >= 0.99 * total:
        # (Nearly) every value in one bin: a spike at its centre, not a box as wide as the bin.
        c = float(centres[top])
        return {"x": np.array([c]), "y": np.array([1.0]), "lo": float(edges[0]), "hi": float(edges[-1]),
                "zero_cut": None, "spike": True,
                "edges": (float(edges[0]), float(edges[-1]))}
    peak, zero_cut = frac.max(), None
    at_zero = np.flatnonzero((edges[:-1] <= 0) & (edges[1:] > 0))
    if at_zero.size and len(frac) > 2:
        others = np.delete(frac, at_zero[0])
        if others.max() > 0 and frac[at_zero[0]] > 2 * others.max():
            peak, zero_cut = others.max(), float(frac[at_zero[0]] / total)
    cum = np.concatenate([[0.0], np.cumsum(frac) / total])
    lo = float(np.interp(0.005, cum, edges))
    hi = float(np.interp(0.995, cum, edges))
    return {"x": centres, "y": np.minimum(frac / peak, 1.2), "lo": lo, "hi": hi, "zero_cut": zero_cut,
            "spike": False, "edges": (float(edges[0]), float(edges[-1]))}


def _x_range(curves: list, key: str, activation: str) -> tuple[float, float]:
    """The run's shared x axis: a bounded activation's whole range, else the 0.5th–99.5th percentiles
    of the widest layer (symmetric for gradients)."""
    shown = [c for c in curves if c is not None]
    if not shown:
        return -1.0, 1.0
    if key == "activation_hist" and activation in ("tanh", "sigmoid"):
        return min(c["edges"][0] for c in shown), max(c["edges"][1] for c in shown)
    lo, hi = min(c["lo"] for c in shown), max(c["hi"] for c in shown)
    if key == "gradient_hist":
        m = max(abs(lo), abs(hi)) or 1.0
        return -m, m
    if hi == lo:
        return lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
    if hi <= lo:
        hi = lo + 1.0
    return lo - 0.02 * (hi - lo), hi


def _columns(n_runs: int, phone: bool) -> int:
    if phone:
        return 1
    return {1: 1, 2: 2, 4: 2}.get(n_runs, 3)


def _run_block(sub, run, r, key, pal, cmap, norm, ncols, n_layers, width, box) -> tuple[int, list]:
    """One run's rows (one axis per layer, a shared x axis); returns (rows drawn, [(layer, std)]).

    ``box``: (block width, block height, space below the rows, space above them) in inches. The layout is fixed in
    inches (labels left, std column right, title above) rather than solved by constrained layout,
    which takes seconds for a figure of 40 panels.
    """
    w_in, h_in, below, above = box
    axes = sub.subplots(n_layers, 1, sharex=True, gridspec_kw={
        "hspace": 0.0, "left": LEFT_IN / w_in, "right": 1 - RIGHT_IN / w_in, "top": 1 - above / h_in,
        "bottom": below / h_in})
    axes = np.atleast_1d(axes)
    sub.suptitle(wrap(pretty(run.label), ncols if ncols > 1 else (1 if width > 5 else 2)), fontsize=9.5,
                 y=1 - 0.06 / h_in, va="top")
    curves = [_layer_curve(layer, key) for layer in r["layers"]]
    lo, hi = _x_range(curves, key, run.config.activation)
    stds, drawn = [], 0
    for i, ax in enumerate(axes):
        ax.set_yticks([])
        ax.set_ylim(0, 1.08)
        ax.grid(False)
        ax.grid(True, axis="x")
        ax.spines["left"].set_visible(False)
        label = f"layer {i + 1}" if i == 0 else str(i + 1)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9, labelpad=4)
        if i >= len(curves):
            ax.set_visible(False)
            continue
        layer, curve = r["layers"][i], curves[i]
        colour = cmap(norm(i + 1))
        if curve is None:
            ax.text(0.5, 0.4, "no values (seeds diverged)", transform=ax.transAxes, ha="center", va="center",
                    fontsize=8.5, color=pal["muted"])
        elif curve["spike"]:
            ax.plot([curve["x"][0]] * 2, [0, 1], color=colour, linewidth=2)
            drawn += 1
        else:
            ax.fill_between(curve["x"], curve["y"], step="mid", color=colour, alpha=0.45, linewidth=0)
            ax.step(curve["x"], curve["y"], where="mid", color=colour, linewidth=1.2)
            if curve["zero_cut"] is not None and w_in - LEFT_IN - RIGHT_IN >= 1.5:   # room for the words
                left = key == "gradient_hist"       # the side away from the bin at 0
                ax.text(0.02 if left else 0.98, 0.55, f"{fmt.pct(curve['zero_cut'], 0)} at 0",
                        transform=ax.transAxes, fontsize=8.5, color=pal["muted"], va="center",
                        ha="left" if left else "right")
            drawn += 1
        std = mean(layer.get(STAT_OF[key]))
        stds.append((i + 1, std))
        text = fmt.num(std, 2) if math.isfinite(std) else "n/a"
        ax.text(1.02, 0.35, ("std " if i == 0 else "") + text, transform=ax.transAxes, ha="left", va="center",
                fontsize=9, color=pal["fg"])
        if i < n_layers - 1:
            ax.tick_params(axis="x", length=0)
    axes[-1].set_xlim(lo, hi)
    axes[-1].locator_params(axis="x", nbins=4 if ncols == 1 else 3)
    axes[-1].ticklabel_format(axis="x", style="sci", scilimits=(-2, 3), useMathText=True)
    axes[-1].xaxis.get_offset_text().set_fontsize(9)
    axes[-1].tick_params(axis="x", labelsize=9)
    return drawn, stds


def _ridgeline(runs, pal, key: str):
    phone = bool(pal.get("phone"))
    n = len(runs)
    ncols = _columns(n, phone)
    nrows = math.ceil(n / ncols)
    n_layers = max(1, max(len(r["layers"]) for _, r in runs))
    width = pal.get("width", 7.0)
    title_lines = max(wrap(pretty(run.label), ncols if ncols > 1 else (1 if width > 5 else 2)).count("\n") + 1
                      for run, _ in runs)
    title_in = TITLE_IN + 0.17 * (title_lines - 1)
    block_in = ROW_IN * n_layers + title_in + TICKS_IN
    heights = [block_in] * (nrows - 1) + [block_in + XLABEL_IN]
    fig = plt.figure(figsize=(width, sum(heights)))
    subs = np.atleast_1d(fig.subfigures(nrows, ncols, squeeze=False, height_ratios=heights, wspace=0, hspace=0))
    cmap = layer_cmap(pal)
    norm = mcolors.Normalize(vmin=1, vmax=max(2, n_layers))
    summary = []
    for i, (run, r) in enumerate(runs):
        last_row = i // ncols == nrows - 1
        box = (width / ncols, heights[i // ncols], TICKS_IN + (XLABEL_IN if last_row else 0.0), title_in)
        drawn, stds = _run_block(subs[i // ncols][i % ncols], run, r, key, pal, cmap, norm, ncols, n_layers,
                                 width, box)
        finite_stds = [(l, s) for l, s in stds if math.isfinite(s)]
        if finite_stds:
            summary.append(f"{pretty(run.label)} std {fmt.num(finite_stds[0][1], 2)} (layer {finite_stds[0][0]}) "
                           f"→ {fmt.num(finite_stds[-1][1], 2)} (layer {finite_stds[-1][0]})")
    for j in range(n, nrows * ncols):
        subs[j // ncols][j % ncols].set_visible(False)
    fig.supxlabel(XLABEL[key], fontsize=9.5, y=0.08 / sum(heights), va="bottom")
    return fig, n_layers, summary


def _texts(runs, key: str, n_layers: int, summary: list, zero_cut: bool) -> tuple[str, str]:
    noun = "activations" if key == "activation_hist" else "back-propagated gradients"
    alt = (f"Histograms of the {noun} of each hidden layer at initialisation, one row per layer "
           f"(1 to {n_layers}, top to bottom) and one block per run: " + "; ".join(summary[:6])
           + ("; and more" if len(summary) > 6 else "") + ".")
    common = ("Rows are hidden layers 1 to {n} from top to bottom; each row is scaled to its own peak, and all "
              "rows of a run share one linear x axis, so a distribution that shrinks with depth turns into a "
              "narrow spike and one that grows fills the axis. The number beside a row is that layer's "
              "standard deviation (mean over seeds).").format(n=n_layers)
    bounded = key == "activation_hist" and all(run.config.activation in ("tanh", "sigmoid") for run, _ in runs)
    if not bounded:
        common += (" The axis spans the 0.5th to 99.5th percentile of the run's widest layer"
                   + (" (the whole range for tanh and sigmoid)." if key == "activation_hist" else "."))
    if zero_cut:
        common += (" The bin at 0 (units that are off) is cut at the row's top so that the rest of the row stays "
                   "visible; \"x% at 0\", where there is room, is its share of the values.")
    if key == "activation_hist":
        caption = ("Each row is one layer's distribution of outputs at initialisation (pooled over seeds), as in "
                   "Glorot & Bengio 2010, Fig. 6. " + common + " Peaks at the ends of a tanh or sigmoid range "
                   "are saturated units; a spike at 0 is a signal that has died out.")
    else:
        caption = ("Each row is one layer's distribution of the gradient of the loss with respect to its "
                   "pre-activations (dL/dZ) at initialisation (pooled over seeds), as in Glorot & Bengio 2010, "
                   "Fig. 7. " + common)
        if any(run.config.activation in ("relu", "leaky_relu") for run, _ in runs):
            caption += " With ReLU the values at 0 are the units that are off, which pass no gradient."
    return alt, caption


def _hist_kind(runs, pal, key: str):
    fig, n_layers, summary = _ridgeline(runs, pal, key)
    zero_cut = any((c := _layer_curve(layer, key)) is not None and c["zero_cut"] is not None
                   for _, r in runs for layer in r["layers"])
    alt, caption = _texts(runs, key, n_layers, summary, zero_cut)
    return fig, alt, caption


@register("activation_hist", fmt="png", phone=True)
def activation_hist(exp, runs, pal):
    return _hist_kind(runs, pal, "activation_hist")


@register("gradient_hist", fmt="png", phone=True)
def gradient_hist(exp, runs, pal):
    return _hist_kind(runs, pal, "gradient_hist")

