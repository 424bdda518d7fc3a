"""The short "number behind it" of a verdict decided by comparisons: the deciding comparisons only,
in display names, one short clause each ("at 20 layers, He normal, ReLU beats Glorot normal, ReLU by
46 points of test accuracy [19, 73], 8 seeds"). The full list (context comparisons, the rates, the
deterministic checks) stays in the verdict's "How this was decided" box.
"""

from __future__ import annotations

from .. import activations, fmt, initializers
from ..catalogue.rules.compare import SHORT

_WORDS = {"better": "beats", "worse": "does worse than", "indistinguishable": "cannot be told apart from",
          "inconclusive": "cannot be compared with"}


def side(record: dict, which: str) -> str:
    """'He normal, ReLU' (+ whatever the record's own name adds after the activation, e.g. ', width 16')."""
    init = record.get(f"init_{which}")
    act = record.get("activation")
    raw = record.get(which, "")
    if not init or not act:
        return raw
    head = f"{init}, {act}"
    rest = raw[len(head):] if raw.startswith(head) else ""
    return f"{initializers.display_name(init)}, {activations.display_name(act)}{rest}"


def _size(record: dict) -> str:
    """a − b and its interval in the metric's units (accuracy in percentage points)."""
    scale = 100.0 if record["metric"] == "heldout_accuracy" else 1.0
    est, lo, hi = (scale * record[x] for x in ("estimate", "ci_low", "ci_high"))
    unit = " percentage points" if scale == 100.0 else ""
    return f"{fmt.num(est, 2 if unit else 3)}{unit} [{fmt.num(lo, 2 if unit else 3)}, {fmt.num(hi, 2 if unit else 3)}]"


def _verb(record: dict) -> str:
    """How a stands to b, in words; for an equivalence or a "not better" claim, the claim's own terms."""
    prediction, margin = record.get("prediction"), record.get("margin")
    scale = 100.0 if record["metric"] == "heldout_accuracy" else 1.0
    unit = " percentage points" if scale == 100.0 else ""
    if prediction == "equivalent" and margin is not None and record.get("ci_low") is not None:
        inside = -margin < record["ci_low"] and record["ci_high"] < margin
        return (f"is within ±{fmt.num(scale * margin, 2)}{unit} of" if inside
                else f"cannot be shown within ±{fmt.num(scale * margin, 2)}{unit} of")
    return _WORDS[record["decision"]]


def clause(record: dict) -> str:
    where = f"at {record['depth']} layers, " if record.get("depth") is not None else ""
    metric = SHORT.get(record["metric"], record["metric"])
    a, b = side(record, "a"), side(record, "b")
    head = f"{where}{a} {_verb(record)} {b}"
    if record.get("ci_low") is None or record["decision"] == "inconclusive":
        return f"{head} ({record.get('reason') or 'too few seeds'})"
    return f"{head} ({metric} of the first minus the second: {_size(record)}, {record['n_seeds']} seeds)"


def headline(comparisons, measured: str) -> str:
    """The deciding comparisons as short clauses, or ``measured`` for a verdict without comparisons."""
    deciding = [c for c in comparisons if c.get("deciding")]
    if not deciding:
        return measured
    text = "; ".join(clause(c) for c in deciding)
    return text[:1].upper() + text[1:] + "."
