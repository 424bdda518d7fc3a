"""View models: what the templates see of experiments, verdicts, runs and the registry.

Templates read fields by name (``e.verdict.numbers.depth``, ``e.result("reference")``) and
name experiments through ``ids`` (:class:`~initreport.catalogue.ExpId`); nothing here or in a
template parses a run label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import itertools
import math
import re

from .. import activations, fmt, initializers
from ..catalogue import Experiment, Run, Verdict

# Status → (admonition type, icon, label). Material styles the four admonition types.
STATUS = {
    "confirmed": ("success", ":material-check-circle:", "Confirmed"),
    "partly confirmed": ("warning", ":material-alert-circle:", "Partly confirmed"),
    "refuted": ("failure", ":material-close-circle:", "Refuted"),
    "inconclusive": ("question", ":material-help-circle:", "Inconclusive"),
}


def num(x, digits: int = 3) -> str:
    """The number filter of the templates: :func:`initreport.fmt.num`, HTML target."""
    return fmt.num(x, digits, target="html")


def pm(stat: dict | None, fmt_=None) -> str:
    """mean ± std of a summary (HTML target), n/a where no seed survived."""
    return fmt.pm(stat, fmt_ or num)


def esc(text) -> str:
    """User (or any free) text made inert for Markdown/HTML: an alias of :func:`initreport.fmt.inert`."""
    if hasattr(text, "__html__"):       # already escaped (markupsafe.Markup): never escape twice
        return str(text.__html__())
    return fmt.inert(text)


def code(text) -> str:
    """Inline code as HTML (safe in a table cell; a Markdown code span would show entities literally)."""
    return "<code>" + esc(text) + "</code>"


def cell(text) -> str:
    """A string made safe for a Markdown table cell (inert: no pipe, no line break survives)."""
    return esc(text)




def init_name(name: str) -> str:
    """An initialiser's display name ("He normal"), from the registry."""
    return initializers.display_name(name)


def act_name(name: str) -> str:
    """An activation's display name ("ReLU"), from the registry."""
    return activations.display_name(name)


def param_text(v) -> str:
    """An initialiser parameter as pages print it: √2 (He's gain on the sweep) by name, else fmt.num."""
    return "√2" if isinstance(v, float) and math.isclose(v, math.sqrt(2.0), rel_tol=1e-9) else fmt.num(v)


def run_title(exp: Experiment, run: Run) -> str:
    """A run's name on the page, made from its configuration (never from its label): the initialiser's and
    activation's display names, and every other field that varies between the experiment's runs."""
    c = run.config
    parts = [init_name(c.init) + "".join(f", {k} {param_text(v)}" for k, v in c.init_params)]
    parts.append(act_name(c.activation))
    for f, name in (("dataset", ""), ("depth", "depth "), ("width", "width "), ("lr", "learning rate "),
                    ("bias", "bias ")):
        if len({getattr(r.config, f) for r in exp.runs}) > 1:
            v = getattr(c, f)
            parts.append(name + (str(v) if v is not None and not isinstance(v, float) else
                                 ("default" if v is None else fmt.num(v))))
    return ", ".join(parts)


_NOTES_PART = re.compile(r"^[Pp]art (\d+), (.+)$")


def cite(source: str, root: str = "") -> str:
    """An experiment's source as the site cites it: "Part 1, §4A; part 2, §2" → "the lecture notes, part 1
    §4A; part 2 §2", "the lecture notes" linked to their description on the Sources page."""
    out, named = [], False
    for piece in (x.strip() for x in source.split(";")):
        m = _NOTES_PART.match(piece)
        if m:
            text = f"part {m.group(1)} {m.group(2).replace(', ', ' ')}"
            if not named:
                text, named = f"[the lecture notes]({root}sources.md#the-lecture-notes), {text}", True
            out.append(text)
        else:
            out.append(esc(piece))
    return "; ".join(out)


# Figure kinds that mirror a paper's figure: what the caption names (with a link on the Sources page).
PAPER_FIGURES = {
    "activation_hist": "Mirrors Glorot & Bengio (2010), Figure 6: activation histograms per layer at initialisation.",
    "gradient_hist": "Mirrors Glorot & Bengio (2010), Figure 7: back-propagated gradient histograms per layer.",
    "layer_std": "Mirrors the per-layer activation statistics of Glorot & Bengio (2010), Figures 3–5 "
                 "(here at initialisation, against the theoretical line).",
    "depth": "Mirrors He et al. (2015), Figure 3: a 30-layer ReLU net trains with He and stalls with √(1/n_in).",
}


def settings_rows(exp: Experiment) -> list[dict]:
    """Each run's settings, for the folded settings table."""
    rows = []
    for r in exp.runs:
        c = r.config
        rows.append({"run": run_title(exp, r), "init": init_name(c.init), "code": c.init,
                     "params": ", ".join(f"{k} {param_text(v)}" for k, v in c.init_params),
                     "bias": "default" if c.bias is None else fmt.num(c.bias),
                     "activation": act_name(c.activation), "dataset": c.dataset, "depth": c.depth,
                     "width": c.width, "epochs": c.epochs, "batch": c.batch_size, "lr": fmt.num(c.lr),
                     "momentum": fmt.num(c.momentum), "seeds": ", ".join(map(str, c.seeds))})
    return rows


def run_row(run: Run, result: dict, exp: Experiment | None = None) -> dict:
    final = result["final"]
    layers = result["layers"]
    diverged = result["diverged"]
    return {
        "label": run_title(exp, run) if exp is not None else run.label,
        "role": run.role,
        "config": result["config"],
        "loss": pm(final["loss"]),
        "test_accuracy": pm(final["test_accuracy"], fmt.pct),
        "diverged": (f"{len(diverged)}/{result['n_seeds']} (epoch " +
                     ", ".join(str(d["epoch"]) for d in diverged) + ")") if diverged else "none",
        "act_std_last": num(layers[-1]["activation_std"]["mean"]) if layers else fmt.MISSING,
        "grad_std_first": num(layers[0]["gradient_std"]["mean"]) if layers else fmt.MISSING,
        "saturated": fmt.pct(_avg(l["saturated_fraction"]["mean"] for l in layers)) if layers else fmt.MISSING,
    }


def _avg(values) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


_SETUP_NAMES = {"batch_size": "batch", "lr": "learning rate"}
# Fields a learning rate may be chosen by, in the order the setup line names them (outer first).
_RATE_KEYS = ("dataset", "activation", "depth", "width", "init")
_MAX_RATE_GROUPS = 8     # beyond this, the setup line refers to the settings table


def _value_name(f: str, v) -> str:
    return {"activation": act_name, "init": init_name}.get(f, str)(v) if f in ("activation", "init", "dataset") \
        else f"{f} {v}"


def _and(names: list) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _by_rate(configs: list, f: str) -> str:
    """'0.1 for sigmoid, 0.01 for tanh, ReLU and leaky ReLU': the rate per value of ``f`` (a function of it)."""
    groups: dict = {}
    for c in configs:
        names = groups.setdefault(c.lr, [])
        if _value_name(f, getattr(c, f)) not in names:
            names.append(_value_name(f, getattr(c, f)))
    return ", ".join(f"{fmt.num(lr)} for {_and(names)}" for lr, names in groups.items())


def rate_text(configs: list) -> str:
    """Which learning rate which runs got, when it varies, as a function of the fewest of
    ``_RATE_KEYS`` that determine it: "learning rate on digits: 0.1 for sigmoid, 0.01 for tanh, ReLU
    and leaky ReLU; on spirals: …" (the field with the most values innermost), or a pointer to the
    settings table when no three fields do, or the line would be too long."""
    varying = [f for f in _RATE_KEYS if len({getattr(c, f) for c in configs}) > 1]
    for size in (1, 2, 3):
        for keys in itertools.combinations(varying, size):
            cells: dict = {}
            if any(cells.setdefault(tuple(getattr(c, k) for k in keys), c.lr) != c.lr for c in configs):
                continue                               # the rate is not a function of these fields
            inner = max(keys, key=lambda k: (len({getattr(c, k) for c in configs}), keys.index(k)))
            outer_keys = [k for k in keys if k != inner]
            outer: dict = {}
            for c in configs:
                outer.setdefault(tuple(getattr(c, k) for k in outer_keys), []).append(c)
            if len(set(cells.values())) > _MAX_RATE_GROUPS or len(outer) > _MAX_RATE_GROUPS:
                continue
            lines = []
            for values, group in outer.items():
                head = ", ".join(("on " if k == "dataset" else "") + _value_name(k, v) for k, v in zip(outer_keys, values))
                lines.append((f"{head}: " if head else "") + _by_rate(group, inner))
            return "learning rate " + "; ".join(lines)
    rates = sorted({c.lr for c in configs})
    return f"learning rate per run, {fmt.num(rates[0])} to {fmt.num(rates[-1])} (see the settings table)"


def seeds_text(configs: list) -> str:
    """'3 seeds (0, 1, 2)', or, when runs differ in their seeds, the most common set and how many runs
    have more or fewer."""
    counts: dict = {}
    for c in configs:
        counts[c.seeds] = counts.get(c.seeds, 0) + 1
    common = max(counts, key=counts.get)
    text = f"{len(common)} seeds ({', '.join(map(str, common))})"
    others = [(s, n) for s, n in counts.items() if s != common]
    if others:
        text += "; " + "; ".join(f"{len(s)} seeds ({', '.join(map(str, s))}) for {n} of the {len(configs)} runs"
                                 for s, n in others) + " (see the settings table)"
    return text


def setup_text(exp: Experiment) -> str:
    """What the runs share, in one line, and what varies (the learning rate: which runs got which).
    The runs that exist for the statistics (the depth axis and its rate selection, rate sweeps) are
    described after it in a sentence of their own."""
    from ..figures.registry import AXIS_ROLES
    configs = [r.config for r in exp.runs if r.role not in AXIS_ROLES] or exp.configs
    return _shared_text(configs) + _statistics_runs_text(exp)


def _statistics_runs_text(exp: Experiment) -> str:
    axis = [r.config for r in exp.select("axis")]
    rates = sorted({r.config.lr for r in exp.select("rates")})
    text = ""
    if axis:
        depths = ", ".join(map(str, sorted({c.depth for c in axis})))
        epochs = ", ".join(map(str, sorted({c.epochs for c in axis})))
        seeds = " or ".join(map(str, sorted({len(c.seeds) for c in axis})))
        text += (f" The comparisons run along depth: {len(axis)} cells (initialiser × activation × depth {depths} "
                 f"hidden layers, width {axis[0].width}, {epochs} epochs, {seeds} seeds), each at its own learning "
                 "rate chosen on a validation split (table below).")
    if rates:
        shown = sorted({r.config.lr for r in exp.runs if r.role not in ("rates", "axis", "selection")})
        text += (f" Instability is measured over the learning rates {', '.join(fmt.num(x) for x in sorted(set(rates) | set(shown)))} "
                 "(the same seeds at each; the figures show the runs above).")
    return text


def _shared_text(configs) -> str:
    untrained = all(c.epochs == 0 for c in configs)
    fields = ("dataset", "activation", "depth", "width") if untrained else (
        "dataset", "activation", "depth", "width", "epochs", "batch_size", "lr", "momentum")
    shared, varies = [], []
    for f in fields:
        values = [act_name(v) if f == "activation" else str(v) for v in sorted({getattr(c, f) for c in configs})]
        (shared if len(values) == 1 else varies).append((f, values))
    parts = [f"{_SETUP_NAMES.get(f, f)} {v[0]}" for f, v in shared]
    text = ", ".join(parts)
    others = [(f, v) for f, v in varies if f != "lr"]
    if others:
        text += "; varying " + ", ".join(f"{_SETUP_NAMES.get(f, f)} ({', '.join(v)})" for f, v in others)
    if len(others) < len(varies):
        text += "; " + rate_text(configs)
    if untrained:
        return f"{text}; {seeds_text(configs)}; not trained: the network at initialisation, float32."
    return f"{text}; {seeds_text(configs)}; SGD" + (
        " with momentum" if any(c.momentum for c in configs) else "") + ", softmax cross-entropy, float32."


@dataclass(frozen=True)
class VerdictView:
    status: str
    label: str
    icon: str
    admonition: str
    measured: str
    detail: str
    numbers: object          # the rule's numbers dataclass
    checks: tuple
    comparisons: tuple = ()  # verdicts.json records of the rule's comparisons (issue 10)
    reason: str = ""
    headline: str = ""       # the deciding comparisons in short (pages/headline.py), else ``measured``

    @classmethod
    def of(cls, v: Verdict) -> "VerdictView":
        kind, icon, label = STATUS[v.status]
        from .headline import headline
        return cls(v.status, label, icon, kind, v.measured, v.detail, v.numbers, v.checks, v.comparisons, v.reason,
                   headline(v.comparisons, v.measured))


@dataclass(frozen=True)
class ExperimentView:
    exp: Experiment = field(repr=False)
    verdict: VerdictView
    setup: str
    rows: list
    figures: dict            # {kind: figure dict}
    keys: dict               # {run label: cache key}
    results: dict = field(repr=False)   # {Run: result}

    def __getattr__(self, name):             # id, title, claim, source, page, measure
        if name.startswith("_") or name == "exp":    # (copy/pickle probe a half-built instance)
            raise AttributeError(name)
        return getattr(self.exp, name)

    @property
    def settings(self) -> list[dict]:
        """Each run's settings (init, activation, dataset, depth, width, epochs, batch, lr, momentum, seeds)."""
        return settings_rows(self.exp)

    @property
    def rates(self) -> list[dict]:
        """The depth axis's learning rate per cell (issue 10): for each (initialiser, activation, depth)
        with selection runs, the mean validation loss at each rate of the grid and the rate chosen (the
        rate its "axis" run trained at). Empty for an experiment without a depth axis."""
        from ..catalogue.axis import selection_table
        table = selection_table(self.exp.runs, self.results)
        chosen = {(r.config.init, r.config.activation, r.config.depth): r.config.lr for r in self.exp.select("axis")}
        rows = []
        for (init, act, depth), by_lr in sorted(table.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
            grid = sorted(by_lr)
            pick = chosen.get((init, act, depth))
            rows.append({"init": init_name(init), "activation": act_name(act), "depth": depth,
                         "losses": [("diverged" if by_lr[lr] is None else num(by_lr[lr])) for lr in grid],
                         "grid": [fmt.num(lr) for lr in grid], "chosen": fmt.num(pick) if pick else fmt.MISSING,
                         "edge": pick is not None and pick in (grid[0], grid[-1])})
        return rows

    def accuracy(self, role: str | None = None, **fields) -> str:
        """The final test accuracy (mean over the seeds) of the one run with this role and config fields."""
        return fmt.pct(self.result(role, **fields)["final"]["test_accuracy"]["mean"])

    def last_std(self, role: str | None = None, **fields) -> str:
        """Activation std of the last hidden layer at initialisation (mean over the seeds), formatted."""
        layers = self.result(role, **fields)["layers"]
        return num(layers[-1]["activation_std"]["mean"]) if layers else fmt.MISSING

    def drop(self, role: str | None = None, **fields) -> str:
        """The fraction of the initial training loss that training removed, formatted as a percentage."""
        r = self.result(role, **fields)
        start, end = r["history"][0]["loss"]["mean"], r["final"]["loss"]["mean"]
        return fmt.pct(1 - end / start) if start and end is not None else "diverged"

    @property
    def explanation(self):
        """The rule's explanation of an anomaly in these results (catalogue.explain.Explanation), or None."""
        return getattr(self.verdict.numbers, "explanation", None)

    def result(self, role: str | None = None, **fields) -> dict:
        """The result of the one run with this role and these config fields."""
        return self.results[self.exp.one(role, **fields)]


def experiment_view(exp: Experiment, results: dict, keys: dict, verdict: Verdict, figures: list) -> ExperimentView:
    return ExperimentView(exp, VerdictView.of(verdict), setup_text(exp),
                          [run_row(r, results[r], exp) for r in exp.runs], {f["kind"]: f for f in figures},
                          keys, results)


def matrix_tables(results: dict) -> dict:
    """{dataset: {"inits", "acts", "cells": {init: {act: text}}, "seeds"}}: mean test accuracy of the matrix
    runs ({Run: result}); rows and columns in the runs' order; "seeds": the seeds per cell (the most any cell has)."""
    tables = {}
    for run, r in results.items():
        c = run.config
        t = tables.setdefault(c.dataset, {"inits": [], "acts": [], "cells": {}, "seeds": 0})
        t["seeds"] = max(t["seeds"], len(c.seeds))
        for key, value in (("inits", c.init), ("acts", c.activation)):
            if value not in t[key]:
                t[key].append(value)
        stat = r["final"]["test_accuracy"]
        text = pm(stat, fmt.pct) if stat["mean"] is not None else "diverged"
        if r["diverged"] and stat["mean"] is not None:
            text += f" ({len(r['diverged'])} diverged)"
        t["cells"].setdefault(c.init, {})[c.activation] = text
    return tables


def init_rows() -> list[dict]:
    """Every initialiser of the registry, in registry order: the site's initialiser tables."""
    return [{"name": name, "family": info.family, "summary": info.summary, "formula": info.formula,
             "formula_tex": info.formula_tex, "keras": info.keras, "pytorch": info.pytorch,
             "source": info.source, "bias": info.default_bias}
            for name, info in initializers.INITIALIZERS.items()]
