"""The one bottom line ("In practice"), generated from the conclusion's comparisons.

One object (:class:`BottomLine`) built by :func:`bottom_line` from the verdict of the
conclusion experiment (choose the initialiser by the activation); the home page and the
choosing page render it with the same macro (``_macros.md.j2``: ``bottom_line``), and
``verdicts.json`` carries it. It reads the comparison records (their ``init_a``,
``activation``, ``depth``, ``decision`` and interval), never run labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..activations import display_name as act_display
from ..fmt import num
from .ids import ExpId


@dataclass(frozen=True)
class BottomLine:
    lines: tuple = ()          # the answer, one short sentence per activation family
    conditions: tuple = ()     # where it holds and where the evidence cannot separate the choices

    def as_dict(self) -> dict:
        return {k: list(v) for k, v in asdict(self).items()}


def _interval(r: dict, flip: bool = False) -> str:
    """'+46 points, interval [19, 73]' (a − b; ``flip``: b − a, for a sentence about b doing better)."""
    if r["ci_low"] is None:
        return "no interval"
    k = -1 if flip else 1
    est, lo, hi = k * r["estimate"], *sorted((k * r["ci_low"], k * r["ci_high"]))
    if r["metric"] == "heldout_accuracy":      # fractions → percentage points
        return f"{num(100 * est, 2)} percentage points, interval [{num(100 * lo, 2)}, {num(100 * hi, 2)}]"
    return f"{num(est)}, interval [{num(lo)}, {num(hi)}]"


def _init(name: str) -> str:
    """'He normal (he_normal)': the display name with the code name a reader types."""
    from ..initializers import display_name
    return f"{display_name(name)} ({name})"


def _act(name: str) -> str:
    text = act_display(name)
    return text[:1].upper() + text[1:]


def _depths(ds) -> str:
    ds = sorted(ds)
    return ", ".join(map(str, ds[:-1])) + (" and " if len(ds) > 1 else "") + str(ds[-1]) if ds else ""


def _family(act: str, rows: list) -> tuple[list, list]:
    """One line for ``act`` from its depth-axis comparisons (the notes' choice ``a`` against ``b``, held-out
    accuracy, every depth; deciding = the deep ones), and the conditions (depths where they are not separated)."""
    if not rows:
        return [], []
    rows = sorted(rows, key=lambda r: r["depth"])
    a, b = _init(rows[0]["init_a"]), _init(rows[0]["init_b"])
    deciding = [r for r in rows if r.get("deciding")]
    by = {d: [r for r in rows if r["decision"] == d] for d in ("better", "worse", "indistinguishable", "inconclusive")}
    lines, conditions = [], []
    # From which depth on is a better at every depth tested (and is that depth a deep one)?
    from_depth = next((r["depth"] for k, r in enumerate(rows) if all(x["decision"] == "better" for x in rows[k:])),
                      None)
    deep_depths = [r["depth"] for r in deciding]
    if from_depth is not None and from_depth in deep_depths:
        at = next(r for r in rows if r["depth"] == from_depth)
        lines.append(f"{_act(act)}: use {a} for nets of {from_depth} hidden layers or more: there it beats {b} on "
                     f"test accuracy ({from_depth} layers: {_interval(at)}).")
    elif any(r["decision"] == "better" for r in deciding):
        good = [r["depth"] for r in deciding if r["decision"] == "better"]
        lines.append(f"{_act(act)}: {a} beats {b} on test accuracy at {_depths(good)} hidden layers, not at every "
                     "deep depth tested.")
    elif any(r["decision"] == "worse" for r in deciding):
        bad = [r for r in deciding if r["decision"] == "worse"]
        lines.append(f"{_act(act)}: {b} did better than the notes' choice {a} here ({bad[-1]['depth']} layers: "
                     f"{_interval(bad[-1], flip=True)}).")
    elif all(r["decision"] == "inconclusive" for r in deciding):
        reasons = sorted({r.get("reason", "") for r in deciding} - {""})
        if reasons and all(x.startswith("the control") for x in reasons):
            why = (f"{a} itself does not train a {act_display(act)} net that deep in this budget (its training loss "
                   "ends less than 30% below its start or the chance level ln K, whichever is lower), so the comparison "
                   "cannot tell")
        else:
            why = "; ".join(reasons) or "too few seeds"
        lines.append(f"{_act(act)}: no measured answer at {_depths(deep_depths)} hidden layers: {why}.")
    else:
        lines.append(f"{_act(act)}: {a} or {b}: this build cannot tell them apart in deep nets; {a} is the notes' "
                     "choice.")
    same = [r["depth"] for r in by["indistinguishable"]]
    if same:
        conditions.append(f"{_act(act)} at {_depths(same)} hidden layers: {a} and {b} are indistinguishable on test "
                          "accuracy, each at its own tuned learning rate.")
    worse = [r for r in by["worse"] if not r.get("deciding")]
    if worse:
        conditions.append(f"{_act(act)} at {_depths(r['depth'] for r in worse)} hidden layers: {b} did better "
                          f"than {a} ({worse[0]['depth']} layers: {_interval(worse[0], flip=True)}).")
    return lines, conditions


def _common_rate(rows: list) -> list:
    """The He et al. setting (one common learning rate, training loss): context."""
    out = []
    for r in rows:
        word = {"better": "ends lower than", "worse": "ends higher than", "indistinguishable": "is indistinguishable from",
                "inconclusive": "cannot be separated from"}[r["decision"]]
        out.append(f"At one common learning rate ({num(r.get('lr_a', 0))}, He et al.'s setting), a {r['depth']}-layer "
                   f"ReLU net with {_init(r['init_a'])} {word} {_init(r['init_b'])} on final training loss "
                   f"({_interval(r)}).")
    return out


def bottom_line(experiments, verdicts: dict) -> BottomLine:
    """The bottom line from the conclusion experiment's comparisons (empty without that experiment)."""
    if ExpId.CONCLUSION not in verdicts or not any(e.id == ExpId.CONCLUSION for e in experiments):
        return BottomLine()
    records = list(verdicts[ExpId.CONCLUSION].comparisons)
    axis = [r for r in records if r.get("metric") == "heldout_accuracy"]
    lines, conditions = [], []
    for act in ("relu", "leaky_relu", "tanh", "sigmoid"):
        l, c = _family(act, [r for r in axis if r.get("activation") == act])
        lines += l
        conditions += c
    conditions += _common_rate([r for r in records if r.get("metric") == "train_loss_after_budget"])
    return BottomLine(tuple(lines), tuple(conditions))
