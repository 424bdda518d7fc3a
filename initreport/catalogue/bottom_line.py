"""The one bottom line ("In practice"), generated from the conclusion's comparisons.

One object (:class:`BottomLine`) built by :func:`bottom_line` from the verdict of the
conclusion experiment (choose the initialiser by the activation); the home page and the
choosing page render it with the same macro (``_macros.md.j2``: ``bottom_line``), and
``verdicts.json`` carries it. It reads the comparison records (their ``init_a``,
``activation``, ``depth``, ``decision`` and interval), never run labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..fmt import num
from .ids import ExpId


@dataclass(frozen=True)
class BottomLine:
    lines: tuple = ()          # the answer, one short sentence per activation family
    conditions: tuple = ()     # where it holds and where the evidence cannot separate the choices

    def as_dict(self) -> dict:
        return {k: list(v) for k, v in asdict(self).items()}


def _interval(r: dict) -> str:
    if r["ci_low"] is None:
        return "no interval"
    if r["metric"] == "heldout_accuracy":      # fractions → percentage points
        return (f"{num(100 * r['estimate'], 2)} points, interval [{num(100 * r['ci_low'], 2)}, "
                f"{num(100 * r['ci_high'], 2)}]")
    return f"{num(r['estimate'])}, interval [{num(r['ci_low'])}, {num(r['ci_high'])}]"


def _relu(deep: list, context: list) -> tuple[list, list]:
    lines, conditions = [], []
    better = sorted(r["depth"] for r in deep if r["decision"] == "better")
    depths = sorted(r["depth"] for r in deep)
    if better and all(d in better for d in depths if d >= better[0]):
        shown = [d for d in depths if d >= better[0]]
        r = next(x for x in deep if x["depth"] == max(depths))
        where = " and ".join(map(str, shown))
        lines.append(f"ReLU: use He (he_normal). At {where} hidden layers it trains where √(1/fan-in) stalls "
                     f"(final training loss, He − √(1/fan-in) at {r['depth']} layers: {_interval(r)}).")
    elif deep:
        lines.append("ReLU: He (the notes' choice); this build could not separate it from √(1/fan-in) at "
                     f"{', '.join(map(str, depths))} hidden layers.")
    for r in context:
        word = {"indistinguishable": "indistinguishable from", "better": "better than", "worse": "worse than",
                "inconclusive": "not separable from"}[r["decision"]]
        conditions.append(f"At depth {r['depth']} ({r['activation']}, {r['dataset']}), He is {word} "
                          f"{r['init_b']} on test accuracy ({_interval(r)}).")
    return lines, conditions


def _xavier(rows: list, act: str) -> tuple[list, list]:
    if not rows:
        return [], []
    decisions = {r["decision"] for r in rows}
    where = ", ".join(f"{r['dataset']}: {_interval(r)}" for r in rows)
    if decisions == {"better"}:
        return [f"{act}: use Glorot (glorot_uniform, Keras' default); it beat He on test accuracy ({where})."], []
    if "worse" in decisions:
        return [f"{act}: Glorot is the notes' choice, but He did better on some data here ({where})."], []
    if decisions == {"inconclusive"}:
        reasons = sorted({r.get("reason", "") for r in rows} - {""})
        return [f"{act}: no measured answer: {'; '.join(reasons) or 'too few seeds'}."], []
    return ([f"{act}: Glorot or He: this build cannot tell them apart; Glorot is the notes' choice and Keras' default."],
            [f"With {act} at depth {rows[0]['depth']}, Glorot and He are indistinguishable or not separable on test "
             f"accuracy ({where})."])


def bottom_line(experiments, verdicts: dict) -> BottomLine:
    """The bottom line from the conclusion experiment's comparisons (empty without that experiment)."""
    if ExpId.CONCLUSION not in verdicts or not any(e.id == ExpId.CONCLUSION for e in experiments):
        return BottomLine()
    records = list(verdicts[ExpId.CONCLUSION].comparisons)
    deep = [r for r in records if r.get("deciding") and r.get("init_a") == "he_normal"]
    context = [r for r in records if not r.get("deciding") and r.get("init_a") == "he_normal"]
    lines, conditions = _relu(deep, context)
    for act in ("tanh", "sigmoid"):
        rows = [r for r in records if r.get("deciding") and r.get("init_a") == "glorot_normal"
                and r.get("activation") == act]
        l, c = _xavier(rows, act)
        lines += l
        conditions += c
    return BottomLine(tuple(lines), tuple(conditions))
