"""The depth axis of the comparative claims, with a learning rate chosen per cell (issue 10).

"Xavier for tanh and sigmoid", "He for ReLU" and "choose by activation" are claims about deep
networks, so they are tested along depth (the profile's ``axis_depths``, from shallow to 20
hidden layers in the default profile) rather than at one depth. Each **cell** (initialiser,
activation, depth) is trained in two steps:

1. **Selection**: one network per rate of the activation's grid (:data:`GRID`), on a
   validation split carved from the training split (``RunConfig.split = "validation"``, the
   test split is never used), with the profile's ``selection_seeds`` (disjoint from the seeds
   the comparison uses). The cell's rate is the one with the lowest final validation loss
   (:func:`initreport.protocol.pick_lr`: a rate at which a seed diverged is excluded, ties go to
   the smaller rate).
2. **Evaluation**: the comparison seeds (``Profile.cmp_seeds``) train on the whole training
   split at the chosen rate; the rules compare these runs.
3. **Extension**: a deciding comparison still undecided after step 2 (indistinguishable with an
   interval wider than the claim's negligible difference, :func:`initreport.stats.adaptive_seeds`)
   gets the profile's ``extend_seeds`` on both of its cells, and is judged again. Every comparison
   on the axis is tested at Pocock's per-look level (:data:`LOOK_ALPHA`), which keeps the overall
   error at 5% across the two looks.

The build runs step 1, calls :func:`pick_rates`, then builds the catalogue with the picks
(:func:`initreport.catalogue.build_catalogue`). Without picks (listing, validation, tests that
do not train) every cell takes its grid's middle rate, so the catalogue's shape is the same.

``glorot_normal`` on the 64-wide hidden layers of these nets (64 inputs, 64 units) has
σ = √(2/(n_in + n_out)) = √(1/n_in): Xavier and LeCun coincide there, and the He claim's
"√(1/n_in)" side is Glorot's run.
"""

from __future__ import annotations

from types import SimpleNamespace

from .. import stats
from ..protocol import pick_lr
from ..runner import RunConfig
from .configs import digits
from .model import Run
from .profiles import Profile

# SGD with momentum 0.9, batch 64. Sigmoid's grid sits 10× higher: its slope is at most ¼, so a
# step moves its weights ¼ as far (measured on the Xavier page's sigmoid runs).
GRID = {"relu": (0.003, 0.01, 0.03, 0.1), "leaky_relu": (0.003, 0.01, 0.03, 0.1),
        "tanh": (0.003, 0.01, 0.03, 0.1), "sigmoid": (0.03, 0.1, 0.3, 1.0)}

# The cells: (initialiser, activation). Xavier against He for every activation (both directions of
# the claim), and small random weights beside them for the small-random pitfall.
PAIRS = {"relu": ("he_normal", "glorot_normal"), "leaky_relu": ("he_normal", "glorot_normal"),
         "tanh": ("glorot_normal", "he_normal"), "sigmoid": ("glorot_normal", "he_normal")}
SMALL = ("tanh", "sigmoid", "relu")


def cells(p: Profile) -> list[tuple[str, str, int]]:
    """Every (initialiser, activation, depth) the axis trains, in a stable order."""
    out = []
    for depth in p.axis_depths:
        for act, inits in PAIRS.items():
            out += [(init, act, depth) for init in inits]
            if act in SMALL:
                out.append(("small_random", act, depth))
    return out


# "Deep" (claims.md): at least 8 hidden layers. The claims about deep nets are decided there.
DEEP_FROM = 8


def deciding_depths(depths) -> tuple[int, ...]:
    """The depths among ``depths`` where "deep" claims are decided: from DEEP_FROM hidden layers
    on (the deepest one when none is that deep); the others are reported as context."""
    depths = sorted(set(depths))
    return tuple(d for d in depths if d >= DEEP_FROM) or (depths[-1],)


def _cell(p: Profile, init: str, act: str, depth: int, **kw) -> RunConfig:
    return digits(p, init=init, activation=act, depth=depth, epochs=p.axis_epochs, checkpoints=(), **kw)


def middle_rate(act: str) -> float:
    grid = GRID[act]
    return grid[(len(grid) - 1) // 2]


def selection_runs(p: Profile) -> tuple[Run, ...]:
    """Step 1: every cell at every rate of its grid, on the validation split (role "selection")."""
    return tuple(Run("selection", _cell(p, init, act, depth, lr=lr, seeds=p.selection_seeds, split="validation"),
                     f"{init}, {act}, depth {depth}, lr {lr:g} (validation)")
                 for init, act, depth in cells(p) for lr in GRID[act])


def pick_rates(p: Profile, results: dict) -> dict:
    """{(init, act, depth): rate} from the selection runs' results ({RunConfig or Run: result}).
    A cell whose every rate diverged takes its grid's smallest rate (and its runs will show that)."""
    by_config = {(k.config if isinstance(k, Run) else k): v for k, v in results.items()}
    picks = {}
    for init, act, depth in cells(p):
        scores = {}
        for lr in GRID[act]:
            r = by_config[_cell(p, init, act, depth, lr=lr, seeds=p.selection_seeds, split="validation")]
            scores[lr] = [None if v is None else float(v) for v in r["final"]["test_loss"]["values"]]
        picked = pick_lr(scores, higher_is_better=False)
        picks[(init, act, depth)] = GRID[act][0] if picked is None else picked
    return picks


def axis_runs(p: Profile, picks: dict | None = None, extended=frozenset()) -> tuple[Run, ...]:
    """Step 2: every cell at its chosen rate with the comparison seeds (role "axis"); the cells in
    ``extended`` (step 3) with the profile's ``extend_seeds`` added."""
    picks = picks or {}
    runs = []
    for init, act, depth in cells(p):
        lr = picks.get((init, act, depth), middle_rate(act))
        more = tuple(s for s in p.extend_seeds if s not in p.cmp_seeds) if (init, act, depth) in extended else ()
        seeds = p.cmp_seeds + more
        runs.append(Run("axis", _cell(p, init, act, depth, lr=lr, seeds=seeds),
                        f"{init}, {act}, depth {depth}"))
    return tuple(runs)


# Every comparison on the axis is tested at Pocock's per-look level: two looks are planned (the
# comparison seeds, then the extension for undecided comparisons), and this level keeps the overall
# error at 5% across them.
LOOK_ALPHA = stats.pocock_alpha(0.05, 2)
# The difference below which a comparison counts as negligible: an indistinguishable comparison whose
# interval lies inside ±this is decided ("no difference that matters") and gets no more seeds.
NEGLIGIBLE = {"heldout_accuracy": 0.005, "train_loss_after_budget": 0.02, "epochs_to_target": 1.0}


def undecided_cells(p: Profile, experiments, results: dict) -> frozenset:
    """Step 3: the cells of the deciding axis comparisons still undecided after step 2 (``results``:
    {RunConfig: result}), by :func:`initreport.stats.adaptive_seeds`. Empty when the profile has no
    ``extend_seeds``."""
    if not p.extend_seeds:
        return frozenset()
    from .rules import judge
    out = set()
    for e in experiments:
        on_axis = {(r.config.init, r.config.activation, r.config.depth) for r in e.select("axis")}
        if not on_axis:
            continue
        verdict = judge(e, {r: results[r.config] for r in e.runs})
        for c in verdict.comparisons:
            a = (c.get("init_a"), c.get("activation"), c.get("depth"))
            b = (c.get("init_b"), c.get("activation"), c.get("depth"))
            if not (c.get("deciding") and a in on_axis and b in on_axis):
                continue
            seen = SimpleNamespace(decided=c["decision"] in ("better", "worse"), decision=c["decision"],
                                   ci_low=c["ci_low"], ci_high=c["ci_high"], n_seeds=c["n_seeds"])
            now = tuple(range(c["n_seeds"]))
            if stats.adaptive_seeds(seen, now, negligible=NEGLIGIBLE.get(c["metric"], 0.0),
                                    schedule=(len(p.cmp_seeds), len(p.cmp_seeds) + len(p.extend_seeds))) != now:
                out |= {a, b}
    return frozenset(out)


def selection_table(runs, results: dict) -> dict:
    """{(init, act, depth): {rate: mean final validation loss or None}} of the selection runs among
    ``runs`` (for the pages: which rate each cell got, and why)."""
    from .readers import mean
    table: dict = {}
    for run in runs:
        if run.role != "selection":
            continue
        c = run.config
        values = results[run]["final"]["test_loss"]
        m = mean(values)
        table.setdefault((c.init, c.activation, c.depth), {})[c.lr] = m if m == m else None
    return table
