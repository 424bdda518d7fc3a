"""Pilot of the verdict protocol: runs the digits claims of ``claim_protocols(profile)`` for real.

Not part of the package: a measurement for ``docs-dev/verdict-protocol.md``. It does what the
build will do once the rules are wired, in one process (one core):

1. learning-rate selection: every grid rate × selection seed, trained on the training split
   minus a stratified 20% validation split, scored by the validation loss (pick_lr);
2. evaluation: the evaluation seeds at the picked rate, on the full training split;
3. comparisons (paired by seed), Holm within each claim at the Pocock per-look level, then
   16 seeds for the cells of comparisons still undecided (adaptive_seeds), and the status.

    PYTHONPATH=$PWD python docs-dev/verdict_pilot.py [--profile default|quick] [--out FILE.json]

Prints timings (CPU seconds of this process; the build splits the same stacks over 2 cores).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace

import numpy as np

from initreport.claim_protocols import claim_protocols
from initreport.datasets import load_dataset
from initreport.protocol import (METRICS, comparison_record, control_trains, decide_claim,
                                 experiment_record, grid_share_per_seed, per_seed, pick_lr)
from initreport.runner import group_stacks, make_config, run_stack
from initreport.stats import Sample, adaptive_seeds, compare_family, mark_inconclusive, pocock_alpha

VALIDATION_FRACTION = 0.2
VALIDATION_SEED = 12345


def validation_split(data):
    """The training split minus a stratified validation part, which takes the place of the test split."""
    rng = np.random.default_rng(VALIDATION_SEED)
    val = []
    for k in np.unique(data.y_train):
        idx = np.flatnonzero(data.y_train == k)
        val.extend(rng.permutation(idx)[: max(1, round(VALIDATION_FRACTION * idx.size))])
    val = np.sort(np.array(val))
    keep = np.setdiff1d(np.arange(data.n_train), val)
    return replace(data, x_train=data.x_train[keep], y_train=data.y_train[keep],
                   x_test=data.x_train[val], y_test=data.y_train[val])


class Runner:
    def __init__(self):
        self.cache, self.networks, self.cpu, self.notes = {}, 0, 0.0, {}
        self.data = load_dataset("digits")
        self.val = validation_split(self.data)

    def run(self, configs, validation=False):
        todo = [c for c in dict.fromkeys(configs) if (c, validation) not in self.cache]
        t = time.process_time()
        for group in group_stacks(todo):
            for c, r in zip(group, run_stack(group, dataset=self.val if validation else self.data)):
                self.cache[(c, validation)] = r
        self.cpu += time.process_time() - t
        self.networks += sum(len(c.seeds) for c in todo)
        return [self.cache[(c, validation)] for c in configs]


def config(p, cond, depth, lr, seeds):
    return make_config(init=cond.init, activation=cond.activation, dataset=p.dataset, depth=depth,
                       width=cond.width or p.width, epochs=p.epochs, batch_size=64, momentum=0.9, lr=lr,
                       seeds=tuple(seeds), checkpoints=(), init_params=cond.params)


def chosen_lr(runner, p, cond, depth):
    grid = p.lr_grid[cond.activation]
    if len(grid) == 1:
        return grid[0]
    results = runner.run([config(p, cond, depth, lr, p.selection_seeds) for lr in grid], validation=True)
    return pick_lr({lr: r["final"]["test_loss"]["values"] for lr, r in zip(grid, results)}, higher_is_better=False)


def samples(runner, p, cond, depth, seeds, lr_cache):
    """Per-seed values of the primary metric (and whether the condition trains) for one cell."""
    name = f"{cond.init}, {cond.activation}" + (f", width {cond.width}" if cond.width else "")
    if p.lr_mode == "sweep":
        res = runner.run([config(p, cond, depth, lr, seeds) for lr in p.lr_grid[cond.activation]])
        stall = grid_share_per_seed(res, "stall", name).values
        runner.notes[name] = f"stall share {sum(stall) / len(stall):.3f}"
        return grid_share_per_seed(res, p.metric, name), True, None
    key = (cond, depth)
    if key not in lr_cache:
        lr_cache[key] = chosen_lr(runner, p, cond, depth)
    lr = lr_cache[key]
    if lr is None:
        return Sample(name, (None,) * len(seeds), tuple(seeds)), False, None
    r = runner.run([config(p, cond, depth, lr, seeds)])[0]
    return per_seed(r, p.metric, target=p.target, name=name), control_trains(r, p.control_min_drop), lr


def evaluate(runner, p, alpha_look):
    depths = p.axis.values if p.axis.name == "depth" else (p.depth,)
    seeds_of, lr_cache, rows = {}, {}, []
    for c in p.contrasts:
        for depth in depths:
            deciding = not c.at or depth in c.at
            rows.append({"contrast": c, "depth": depth, "deciding": deciding, "seeds": p.seeds})
    for look in range(len(p.schedule)):
        for row in rows:
            c, depth = row["contrast"], row["depth"]
            sa, trains_a, lr_a = samples(runner, p, c.a, depth, row["seeds"], lr_cache)
            sb, trains_b, lr_b = samples(runner, p, c.b, depth, row["seeds"], lr_cache)
            control = {"a": (sa, trains_a), "b": (sb, trains_b)}.get(c.control)
            row.update(sa=sa, sb=sb, control=control, lr_a=lr_a, lr_b=lr_b)
        for deciding in (True, False):      # two families: the claim's conditions, and the context
            fam = [r for r in rows if r["deciding"] == deciding]
            comps = compare_family([dict(a=r["sa"], b=r["sb"]) for r in fam], alpha=alpha_look, paired=True,
                                   higher_is_better=METRICS[p.metric].higher_is_better, one_sided=p.one_sided,
                                   metric=p.metric, nan_policy="exclude")
            for r, comp in zip(fam, comps):
                if r["control"] and not r["control"][1]:
                    comp = mark_inconclusive(comp, f"the control {r['control'][0].name} does not train "
                                                   f"at depth {r['depth']}")
                r["comparison"] = comp
        grew = False
        for r in rows:
            if r["deciding"]:
                nxt = adaptive_seeds(r["comparison"], r["seeds"], negligible=p.negligible, schedule=p.schedule)
                grew |= nxt != r["seeds"]
                r["seeds"] = nxt
        if not grew:
            break
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="default")
    ap.add_argument("--out", default=None)
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    runner = Runner()
    protocols = [p for p in claim_protocols(args.profile) if p.dataset == "digits"
                 and (args.only is None or p.id in args.only)]
    doc, wall = {"schema": "initreport.verdicts/1", "profile": args.profile, "experiments": []}, time.time()
    for p in protocols:
        t, n0 = time.process_time(), runner.networks
        rows = evaluate(runner, p, pocock_alpha(0.05, len(p.schedule)))
        deciding = [r for r in rows if r["deciding"]]
        status = decide_claim([r["comparison"] for r in deciding], [r["contrast"].prediction for r in deciding])
        comps = [comparison_record(r["comparison"], depth=r["depth"], lr_a=r["lr_a"], lr_b=r["lr_b"],
                                   deciding=r["deciding"]) for r in rows]
        doc["experiments"].append(experiment_record(p.id, status.status, comps, reason=status.reason))
        print(f"{p.id}: {status.status} — {status.reason} [{runner.networks - n0} new networks, "
              f"{time.process_time() - t:.1f} s CPU]", flush=True)
        for r in rows:
            c = r["comparison"]
            print(f"   depth {r['depth']:>2} {'*' if r['deciding'] else ' '} {c.a} vs {c.b}: {c.metric} "
                  f"{c.estimate if c.estimate is None else round(c.estimate, 4)} "
                  f"[{c.ci_low if c.ci_low is None else round(c.ci_low, 4)}, "
                  f"{c.ci_high if c.ci_high is None else round(c.ci_high, 4)}] n={c.n_seeds} {c.decision}"
                  f" (lr {r['lr_a']} / {r['lr_b']}){' — ' + c.reason if c.reason else ''}"
                  + "".join(f"; {k}: {runner.notes[k]}" for k in (c.a, c.b) if k in runner.notes), flush=True)
    doc["cost"] = {"networks": runner.networks, "cpu_seconds": round(runner.cpu, 1),
                   "wall_seconds": round(time.time() - wall, 1)}
    print(json.dumps(doc["cost"]), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=1, allow_nan=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
