"""The explorer: a grid of run configurations and the data file the "Explore" page draws from.

The grid's extent is a profile knob (``explorer``: ``"small"``, ``"large"`` or ``"none"``). Every
cell is an ordinary :class:`~initreport.runner.RunConfig` built with the catalogue's own helpers
(:func:`~initreport.catalogue.configs.digits`, :func:`~initreport.catalogue.configs.two_d`), so it
runs through the same cache and executor; a cell identical to a catalogue run (the matrix's depth-4
nets) is the same cache entry and costs nothing.

The data ships as a script, ``docs/assets/explorer/data.js`` (``window.EXPLORER_DATA = {...};``),
so the page works from ``file://`` without fetching anything.
"""

from __future__ import annotations

import json
import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from . import initializers
from .catalogue.configs import digits, two_d
from .keys import run_key
from .runner import RunConfig

DATA_PATH = "assets/explorer/data.js"       # docs-relative
SCHEMA = "initreport.explorer/1"
GAIN_INIT = "scaled_normal"                 # the gain axis: N(0, (gain/√n_in)²)


@dataclass(frozen=True)
class Grid:
    inits: tuple             # named initialisers (pitfalls included)
    gains: tuple             # scaled_normal gains, in units of 1/√n_in
    activations: tuple
    depths: tuple            # hidden layers
    datasets: tuple          # "digits" and 2-D sets


# Depth 4 (and, on the 2-D set, width 32) are the matrix's nets: those cells reuse its runs.
GRIDS = {
    "none": Grid((), (), (), (), ()),
    "small": Grid(inits=("zeros", "small_random", "glorot_normal", "he_normal"), gains=(0.5, 1.0, 2.0),
                  activations=("relu", "tanh"), depths=(2, 4), datasets=("digits", "spirals")),
    "large": Grid(inits=("zeros", "constant", "small_random", "large_random", "glorot_normal", "he_normal",
                         "lecun_normal"),
                  gains=(0.25, 0.5, 1.0, 2.0, 4.0), activations=("relu", "tanh", "sigmoid"), depths=(2, 4, 8),
                  datasets=("digits", "spirals")),
}

# The outcome a reader predicts: "diverges" when any seed's loss or weights became NaN/Inf,
# "trains" when the mean training loss fell below this fraction of its value at initialisation,
# "stalls" otherwise.
TRAINS_BELOW = 0.8


@dataclass(frozen=True)
class Cell:
    init: str
    gain: float | None       # None: the named initialiser's own scale
    activation: str
    depth: int
    dataset: str
    config: RunConfig


def cell_config(profile, init: str, gain: float | None, activation: str, depth: int, dataset: str) -> RunConfig:
    params = {} if gain is None else {"init_params": {"gain": gain}}
    if dataset == "digits":
        return digits(profile, init=init, activation=activation, depth=depth, **params)
    return two_d(profile, dataset=dataset, init=init, activation=activation, depth=depth, width=32, **params)


def _without_seeds(config: RunConfig) -> tuple:
    return tuple((f.name, getattr(config, f.name)) for f in dataclasses.fields(config) if f.name != "seeds")


def grid_cells(profile) -> list[Cell]:
    """Every cell of the profile's grid, in a fixed order.

    A cell that is a catalogue run but for its seeds (the matrix trains more seeds, for its
    intervals) takes the catalogue's run, so it is computed once and shows the same numbers.
    """
    from .catalogue import build_catalogue, catalogue_configs

    grid = GRIDS[profile.explorer]
    known: dict[tuple, RunConfig] = {}
    for c in catalogue_configs(build_catalogue(profile)):
        best = known.get(_without_seeds(c))
        if best is None or len(c.seeds) > len(best.seeds):
            known[_without_seeds(c)] = c
    variants = [(i, None) for i in grid.inits] + [(GAIN_INIT, g) for g in grid.gains]
    cells = []
    for ds in grid.datasets:
        for act in grid.activations:
            for depth in grid.depths:
                for init, gain in variants:
                    config = cell_config(profile, init, gain, act, depth, ds)
                    config = known.get(_without_seeds(config), config)
                    cells.append(Cell(init, gain, act, depth, ds, config))
    return cells


def explorer_configs(profile) -> list[RunConfig]:
    return [c.config for c in grid_cells(profile)]


# ---------------------------------------------------------------------------------------
# Links into the explorer from the other pages

PAGE = "explore.html"        # the Explore page (docs-relative; the site keeps .html links, see mkdocs.yml)


def _log_nearest(values, target: float):
    """The value nearest ``target`` on a log scale (depths and gains are ratios); ties to the larger."""
    return min(values, key=lambda v: (abs(math.log(v / target)), -v))


def _is_2d(dataset: str) -> bool:
    from .datasets import BUILTIN_DATASETS
    info = BUILTIN_DATASETS.get(dataset)
    return info is not None and info.n_features == 2


def _bias(config: RunConfig) -> float:
    return initializers.get_info(config.init).default_bias if config.bias is None else config.bias


def _show(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def nearest_cell(profile, config: RunConfig) -> tuple[Cell, list[str]] | None:
    """The grid cell that shows ``config``, and how the cell's run differs from it (["depth 4, not 3", ...];
    [] when the cell is this very configuration but for its seeds).

    The initialiser and the activation must be the grid's (a ``scaled_normal`` gain goes to the nearest
    gain); the depth goes to the nearest depth, a 2-D set to the grid's 2-D set. None when the grid has
    no such cell (another initialiser or activation, a dataset of another kind, no grid at all)."""
    grid = GRIDS[profile.explorer]
    if config.activation not in grid.activations:
        return None
    if config.init == GAIN_INIT and grid.gains and set(dict(config.init_params)) == {"gain"}:
        init, gain = GAIN_INIT, _log_nearest(grid.gains, dict(config.init_params)["gain"])
    elif config.init in grid.inits and not config.init_params:
        init, gain = config.init, None
    else:
        return None
    if config.dataset in grid.datasets:
        dataset = config.dataset
    else:
        dataset = next((d for d in grid.datasets if _is_2d(d)), None) if _is_2d(config.dataset) else None
        if dataset is None:
            return None
    depth = _log_nearest(grid.depths, config.depth)
    cell_cfg = cell_config(profile, init, gain, config.activation, depth, dataset)
    cell = Cell(init, gain, config.activation, depth, dataset, cell_cfg)
    differs = []
    if gain is not None and gain != dict(config.init_params)["gain"]:
        differs.append(f"gain {gain:g}, not {dict(config.init_params)['gain']:g}")
    for form, mine, theirs in (("{}", dataset, config.dataset), ("depth {}", depth, config.depth),
                               ("width {}", cell_cfg.width, config.width), ("bias {}", _bias(cell_cfg), _bias(config)),
                               ("{} epochs", cell_cfg.epochs, config.epochs),
                               ("learning rate {}", cell_cfg.lr, config.lr)):
        if mine != theirs:
            differs.append(f"{form.format(_show(mine))}, not {_show(theirs)}"
                           + (" (untrained)" if form == "{} epochs" and theirs == 0 else ""))
    return cell, differs


def cell_hash(cell: Cell) -> str:
    """The URL hash that selects ``cell`` on the Explore page (the keys explorer.js reads), all seeds."""
    parts = [("init", cell.init)] + ([("gain", f"{cell.gain:g}")] if cell.gain is not None else [])
    parts += [("act", cell.activation), ("depth", str(cell.depth)), ("data", cell.dataset), ("seed", "all")]
    return "#" + "&".join(f"{k}={quote(v, safe='')}" for k, v in parts)


def explorer_link(profile, config: RunConfig) -> str | None:
    """The docs-relative link that opens the Explore page at the cell showing ``config``
    (``explore.html#init=…&act=…&depth=…&data=…&seed=all``), or None when the grid has no such cell."""
    found = nearest_cell(profile, config)
    return None if found is None else PAGE + cell_hash(found[0])


def explorer_links(view, profile) -> list[dict]:
    """The links an experiment's section shows (its "subject" runs that the grid covers, one per cell):
    [{"href": docs-relative, "init", "act" (registry names), "differs": "depth 4, not 3; …" or ""}]. The filter
    ``explore_links``."""
    exp = getattr(view, "exp", view)
    out: dict[str, dict] = {}
    for run in exp.select("subject"):
        found = nearest_cell(profile, run.config)
        if found is not None:
            cell, differs = found
            out.setdefault(PAGE + cell_hash(cell), {"init": cell.init, "act": cell.activation,
                                                    "differs": "; ".join(differs)})
    return [{"href": href, **v} for href, v in out.items()]


# ---------------------------------------------------------------------------------------
# The data file


def _r(x, digits_: int = 4):
    """A float to ``digits_`` significant digits (the data file's precision); None stays None."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return float(f"{x:.{digits_}g}")


def theory_std(config: RunConfig, layers: list) -> list | None:
    """Activation std per layer predicted from the measured first layer (the variance argument):
    ReLU ×√(n_in σ²/2) per layer (He et al. 2015), tanh ×σ√n_in in its linear regime (n_in σ² ≤ 1).
    None where the argument does not apply (other activations, non-zero mean or bias, tanh saturating)."""
    if config.activation not in ("relu", "tanh") or config.bias not in (None, 0, 0.0) or not layers:
        return None
    info = initializers.get_info(config.init)
    params = dict(config.init_params)
    start = layers[0]["activation_std"]["mean"]
    if info.default_bias != 0 or start is None or not start > 0:
        return None
    out, value = [start], start
    for layer in layers[1:]:
        fan_in, fan_out = layer["fan_in"], layer["fan_out"]
        if info.mean(fan_in, fan_out, **params) != 0:
            return None
        gain2 = fan_in * info.std(fan_in, fan_out, **params) ** 2
        if config.activation == "relu":
            value *= math.sqrt(gain2 / 2)
        elif gain2 > 1 + 1e-9:
            return None
        else:
            value *= math.sqrt(gain2)
        out.append(value)
    return [_r(v) for v in out]


def outcome(result: dict) -> str:
    """'diverges', 'trains' or 'stalls' (see TRAINS_BELOW)."""
    if result["diverged"]:
        return "diverges"
    first, last = result["history"][0]["loss"]["mean"], result["history"][-1]["loss"]["mean"]
    if first is None or last is None:
        return "diverges"
    return "trains" if last < TRAINS_BELOW * first else "stalls"


def _boundary(result: dict) -> dict | None:
    b = result.get("boundary")
    if not b:
        return None
    # One character per grid point, row by row (row i is y = ys[i]); "." where undefined.
    rows = ["".join("." if v is None else str(int(v)) for v in row) for row in b["classes"]]
    return {"n": b["n"], "extent": b["extent"], "seed": b["seed"], "classes": "".join(rows)}


def _hist(h: dict | None) -> list | None:
    if not h or not h.get("edges") or not h.get("fraction"):
        return None
    return [_r(h["edges"][0]), _r(h["edges"][-1]), [_r(f, 3) for f in h["fraction"]]]


def cell_data(cell: Cell, result: dict, covering: list) -> dict:
    layers = result["layers"]
    metrics = ("loss", "accuracy", "test_loss", "test_accuracy")
    return {
        "init": cell.init, "gain": cell.gain, "act": cell.activation, "depth": cell.depth, "data": cell.dataset,
        "key": run_key(cell.config), "seeds": list(cell.config.seeds), "epochs": cell.config.epochs,
        "width": cell.config.width, "lr": cell.config.lr,
        "diverged": result["diverged"], "outcome": outcome(result),
        "layers": {
            "act_std": [[_r(v) for v in layer["activation_std"]["values"]] for layer in layers],
            "grad_std": [[_r(v) for v in layer["gradient_std"]["values"]] for layer in layers],
            "theory": theory_std(cell.config, layers),
            # Distributions at initialisation, pooled over seeds: [lowest edge, highest edge, fractions]
            # (the bins are equal; see the result schema's activation_hist / gradient_hist).
            "act_hist": [_hist(layer.get("activation_hist")) for layer in layers],
            "grad_hist": [_hist(layer.get("gradient_hist")) for layer in layers],
        },
        # Per metric, per seed: one value per epoch (0 = untrained).
        "curves": {m: [[_r(h[m]["values"][i]) for h in result["history"]] for i in range(len(cell.config.seeds))]
                   for m in metrics},
        "boundary": _boundary(result),
        "verdicts": covering,
    }


def covering_verdicts(experiments, verdicts: dict) -> dict:
    """{RunConfig: [{"id", "title", "status", "sentence", "page"}]}: the experiments that ran each config."""
    out: dict = {}
    for e in experiments:
        v = verdicts[e.id]
        entry = {"id": e.id, "title": e.title, "status": v.status, "claim": e.claim, "measured": v.measured,
                 "page": e.page + ".html"}
        for config in dict.fromkeys(e.configs):
            out.setdefault(config, []).append(entry)
    return out


def read_glossary(path) -> dict:
    """{term: explanation} from the site's glossary (``*[term]: explanation`` lines), so the text the
    page writes at run time carries the same tooltips as the Markdown; {} when the file is absent."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    out = {}
    for line in lines:
        m = re.fullmatch(r"\*\[(.+?)\]:\s*(.+)", line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


def explorer_data(profile, results: dict, experiments, verdicts: dict, glossary: dict | None = None) -> dict:
    """Everything the Explore page draws: the grid's axes, one entry per cell, and the glossary."""
    grid = GRIDS[profile.explorer]
    cover = covering_verdicts(experiments, verdicts)
    cells = grid_cells(profile)
    return {
        "schema": SCHEMA, "profile": profile.name, "grid": profile.explorer,
        "axes": {"init": list(grid.inits) + ([GAIN_INIT] if grid.gains else []), "gain": list(grid.gains),
                 "act": list(grid.activations), "depth": list(grid.depths), "data": list(grid.datasets)},
        "trains_below": TRAINS_BELOW, "glossary": glossary or {},
        "cells": [cell_data(c, results[c.config], cover.get(c.config, [])) for c in cells],
    }


def data_script(data: dict) -> bytes:
    """The data as a script that sets ``window.EXPLORER_DATA`` (loaded with <script src>, so it works
    from file://). Compact JSON; ``</`` escaped so the text is safe even if inlined in HTML."""
    text = json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)
    return ("window.EXPLORER_DATA = " + text.replace("</", "<\\/") + ";\n").encode("utf-8")


def read_data_script(raw: bytes | str) -> dict:
    """The inverse of :func:`data_script` (for tests and tools)."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    prefix = "window.EXPLORER_DATA = "
    if not text.startswith(prefix):
        raise ValueError("not an explorer data script")
    return json.loads(text[len(prefix):].rstrip().rstrip(";"))
