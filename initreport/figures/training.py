"""Figure kinds about training: loss and accuracy curves, decision boundaries."""

from __future__ import annotations

import math

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from .. import fmt
from ..datasets import load_dataset
from .registry import register
from .style import (ON_TOP, colours, diverged_text, get, legend_below, lies_on, lies_on_text, log_if_decades, mean,
                    message, narrow, new_fig, nice_log, panels, pretty, run_styles, wrap)


def _series(r: dict, key: str):
    ep, m, lo, hi = [], [], [], []
    for entry in r["history"]:
        s = entry[key]
        ep.append(entry["epoch"])
        m.append(mean(s))
        lo.append(get(s, "min"))
        hi.append(get(s, "max"))
    return np.asarray(ep, float), np.asarray(m), np.asarray(lo), np.asarray(hi)


def _diverged_band(ax_l, is_log, all_loss, div_count):
    """A free band at the top of the loss panel for the divergence crosses."""
    lo_v, hi_v = min(all_loss), max(all_loss)
    room = 0.1 + 0.06 * max(div_count.values())
    if is_log:
        span = math.log10(hi_v / lo_v) or 1.0
        ax_l.set_ylim(lo_v / 10 ** (0.05 * span), hi_v * 10 ** (span * room / (1 - room)))
    else:
        span = (hi_v - lo_v) or max(abs(hi_v), 1.0)
        ax_l.set_ylim(lo_v - 0.05 * span, hi_v + span * room / (1 - room))


def _curve_points(runs):
    """Per run and panel key, the drawn (epochs, mean, min, max) with non-finite points removed."""
    out = []
    for run, r in runs:
        per = {}
        for key in ("loss", "test_accuracy"):
            ep, m, lo, hi = _series(r, key)
            ok = np.isfinite(m) & np.isfinite(lo) & np.isfinite(hi)
            if key == "loss":
                ok &= (lo > 0)
            per[key] = (ep[ok], m[ok], lo[ok], hi[ok], len(ep))
        out.append(per)
    return out


def _plot_curves(runs, ax_l, ax_a, cols):
    """Mean lines with min–max bands, and crosses where seeds diverged; (handles, labels, losses, ...).

    A run whose curve lies on an earlier run's is drawn dashed on top; ``hidden`` says which
    ({panel key: {run index: index of the run it lies on}}).
    """
    handles, labels, all_loss = [], [], []
    div_count: dict = {}
    max_epoch = 0
    points = _curve_points(runs)
    hidden = {key: lies_on([(p[key][0], p[key][1]) for p in points], log=False) for key in ("loss", "test_accuracy")}
    for k, ((run, r), (ci, ls, mk), per) in enumerate(zip(runs, run_styles(runs), points)):
        for ax, key in ((ax_l, "loss"), (ax_a, "test_accuracy")):
            ep, m, lo, hi, n_all = per[key]
            max_epoch = max(max_epoch, int(ep.max()) if len(ep) else 0)
            if key == "loss":
                all_loss += list(lo) + list(hi)
            mark = mk if len(ep) <= 1 or n_all <= 6 else None
            if k in hidden[key]:     # on top, with hollow markers (some of them) so that both stay visible
                kw = {"linestyle": ON_TOP, "marker": mk, "markevery": max(1, len(ep) // 8), "markersize": 7,
                      "markerfacecolor": "none", "zorder": 3}
            else:
                kw = {"linestyle": ls, "marker": mark}
            (h,) = ax.plot(ep, m, color=cols[ci], **kw)
            if r["n_seeds"] > 1 and len(ep):
                ax.fill_between(ep, lo, hi, color=cols[ci], alpha=0.18, linewidth=0)
            if key == "loss":
                handles.append(h)
                labels.append(pretty(run.label))
        for d in r["diverged"]:
            stack = div_count.get(d["epoch"], 0)
            div_count[d["epoch"]] = stack + 1
            trans = blended_transform_factory(ax_l.transData, ax_l.transAxes)
            ax_l.plot([d["epoch"]], [0.96 - 0.06 * stack], marker="x", markersize=8, markeredgewidth=2,
                      color=cols[ci], transform=trans, clip_on=False, linestyle="none")
    return handles, labels, all_loss, div_count, max_epoch, hidden


def _hidden_text(runs, hidden: dict) -> str:
    names = [pretty(run.label) for run, _ in runs]
    both = {j: i for j, i in hidden["loss"].items() if hidden["test_accuracy"].get(j) == i}
    loss_only = {j: i for j, i in hidden["loss"].items() if j not in both}
    acc_only = {j: i for j, i in hidden["test_accuracy"].items() if j not in both}
    return (lies_on_text(names, both, "in both panels") + lies_on_text(names, loss_only, "in the loss panel")
            + lies_on_text(names, acc_only, "in the accuracy panel"))


@register("loss_curves", fmt="svg", phone=True)
def loss_curves(exp, runs, pal):
    fig, (ax_l, ax_a) = panels(3.6)
    handles, labels, all_loss, div_count, max_epoch, hidden = _plot_curves(runs, ax_l, ax_a, colours(pal))
    any_div = bool(div_count)
    is_log = log_if_decades(ax_l, all_loss)
    if any_div and all_loss:
        _diverged_band(ax_l, is_log, all_loss, div_count)
    if is_log:
        nice_log(ax_l)
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
    legend_below(fig, handles, labels)
    finals = [(pretty(run.label), mean(r["final"]["test_accuracy"])) for run, r in runs]
    alt = ("Training loss and test accuracy per epoch for "
           + ", ".join(f"{n} (final test accuracy {fmt.pct(a, 0)})" for n, a in finals[:5])
           + (", and more" if len(finals) > 5 else "") + ".")
    caption = ("Training loss per epoch (epoch 0 is the untrained network) and accuracy on the held-out test "
               "split. Lines are the mean over seeds, bands the min–max; a flat line means no "
               "learning." + _hidden_text(runs, hidden))
    div = diverged_text(runs)
    if div:
        caption += " " + div + " Crosses at the top of the loss panel mark the epoch a seed diverged."
    return fig, alt, caption


def _boundary_panel(ax, run, r, data, class_cols, pal, ncols) -> float:
    """One run's predicted class regions with the training points; returns its test accuracy."""
    b = r["boundary"]
    grid = np.asarray(b["classes"], float)
    n_classes = max(int(max(2, np.nanmax(grid) + 1)), int(data.n_classes))
    cmap = mcolors.ListedColormap([class_cols[k % len(class_cols)] for k in range(n_classes)])
    ax.imshow(grid, origin="lower", extent=b["extent"], cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5,
              alpha=0.35, interpolation="nearest", aspect="auto")
    x, y = np.asarray(data.x_train), np.asarray(data.y_train)
    for k in range(n_classes):
        sel = y == k
        ax.scatter(x[sel, 0], x[sel, 1], s=7, color=class_cols[k % len(class_cols)],
                   edgecolors=pal["fg"], linewidths=0.3, zorder=3)
    acc = mean(r["final"]["test_accuracy"])
    ax.set_title(f"{wrap(pretty(run.label), ncols)}\ntest accuracy {fmt.pct(acc, 0)}", fontsize=9.5)
    ax.set_xlim(b["extent"][0], b["extent"][1])
    ax.set_ylim(b["extent"][2], b["extent"][3])
    ax.set_aspect("equal")
    ax.grid(False)
    ax.tick_params(labelsize=8.5)
    return acc


@register("decision_boundary", fmt="png", phone=True)
def decision_boundary(exp, runs, pal):
    shown = [(run, r) for run, r in runs if r.get("boundary")]
    missing = [run for run, r in runs if not r.get("boundary")]
    cols = colours(pal)
    class_cols = [cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[7]]
    if not shown:
        fig, axes = new_fig(1.6)
        message(axes[0][0], "No decision boundary recorded (not a 2-D dataset, or every seed diverged).", pal)
        return fig, "No decision boundary was recorded for these runs.", "No run of this experiment recorded a boundary."
    n = len(shown)
    ncols = min(n, 2 if narrow() else 3)
    nrows = math.ceil(n / ncols)
    fig, axes = new_fig((1.85 if narrow() else 2.35) * nrows + 0.45, ncols=ncols, nrows=nrows, sharex=True, sharey=True)
    data_cache: dict = {}
    bits = []
    for i, (run, r) in enumerate(shown):
        name = run.config.dataset
        if name not in data_cache:
            data_cache[name] = load_dataset(name)
        acc = _boundary_panel(axes[i // ncols][i % ncols], run, r, data_cache[name], class_cols, pal, ncols)
        bits.append(f"{pretty(run.label)} {fmt.pct(acc, 0)}")
    for j in range(n, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    seeds = sorted({r["boundary"]["seed"] for _, r in shown})
    alt = ("Predicted class regions over the standardised input plane with the training points, one panel per "
           "run; test accuracy " + ", ".join(bits) + ".")
    caption = (f"Shaded: the class the trained network predicts at each point (seed {', '.join(map(str, seeds))}); "
               "dots: the training points coloured by their true class. A straight boundary, or one class "
               "everywhere, means the hidden units are not working as a non-linear feature set.")
    if missing:
        caption += " No boundary for " + ", ".join(pretty(run.label) for run in missing) + " (every seed diverged)."
    return fig, alt, caption
