"""The experiment catalogue: every claim of the lecture notes, as data, with its verdict rule.

An :class:`Experiment` names the claim (in the report's own words), the runs that test it
(:class:`Run`: a role, a :class:`~initreport.runner.RunConfig` and a display label) and a
registered verdict rule. The rule is a function of the measured results only; it returns a
:class:`Verdict` with the number behind it and its numbers in a declared dataclass. Nothing
here knows what the notes expect the number to be except the threshold the rule states, and
that threshold is printed beside the verdict on the site.

* :mod:`.profiles`: the knobs that scale the catalogue (``default``, ``quick``);
* :mod:`.readers`: numbers out of result dicts; :mod:`.rules`: the registered rules;
* :mod:`.pitfalls`, :mod:`.heuristics`, :mod:`.studies`: the experiments, per page family;
* :mod:`.validate`: the checks that run before any experiment.

Several experiments share runs (the technique × activation matrix feeds four claims); the
cache stores each run once, by the hash of its configuration.
"""

from __future__ import annotations

from ..errors import choice_error
from ..runner import RunConfig
from .axis import axis_runs, selection_runs
from .configs import depth_runs, matrix_runs
from .extras import framework_defaults, zero_sigmoid_moons
from .heuristics import heuristic_experiments
from .ids import ExpId
from .matrix import MATRIX_ACTIVATIONS, MATRIX_INITS, family, heuristics, recommendation
from .model import STATUSES, Experiment, Run, Verdict
from .pitfalls import pitfall_experiments, zero_bias
from .profiles import PROFILES, Profile, get_profile
from .rules import RULES, judge
from .studies import depth_study, weight_scale
from .validate import validate_catalogue

__all__ = ["ExpId", "Experiment", "Run", "Verdict", "STATUSES", "Profile", "PROFILES", "get_profile", "RULES",
           "judge", "build_catalogue", "catalogue_configs", "get_experiment", "matrix_experiment",
           "validate_catalogue", "recommendation", "family", "heuristics", "MATRIX_INITS", "MATRIX_ACTIVATIONS"]


DEEP_FROM = 20   # "deep" for the He claim: the depth study's depths from 20 hidden layers on


def _deep_pair(depth: tuple, depths: tuple) -> tuple[Run, ...]:
    """He and √(1/n_in) with ReLU at the depth study's deep depths (from DEEP_FROM layers on, or its
    deepest depth when it has none that deep), as the "deep" runs of he-for-relu and the conclusion."""
    deep = {d for d in depths if d >= DEEP_FROM} or {max(depths)}
    return tuple(Run("deep", r.config, f"{r.config.init}, relu, depth {r.config.depth}, common rate {r.config.lr:g}")
                 for r in depth
                 if r.config.init in ("he_normal", "lecun_normal") and r.config.activation == "relu"
                 and r.config.depth in deep)


def build_catalogue(profile: str | Profile = "default", picks: dict | None = None,
                    extended=frozenset()) -> list[Experiment]:
    """Every experiment of the profile, in the order the site lists them.

    ``picks``: the learning rate of each depth-axis cell, from :func:`.axis.pick_rates` on the
    selection runs (:func:`.axis.selection_runs`); without them every cell takes its grid's
    middle rate (same experiments and runs, other rates: for listing and checks). ``extended``: the
    axis cells that get the profile's ``extend_seeds`` (:func:`.axis.undecided_cells`)."""
    p = get_profile(profile) if isinstance(profile, str) else profile
    matrix, depth = matrix_runs(p), depth_runs(p)
    axis = selection_runs(p) + axis_runs(p, picks, extended)
    pitfalls = pitfall_experiments(p, axis)
    after = next((k + 1 for k, e in enumerate(pitfalls) if e.id == ExpId.ZERO_SIGMOID), len(pitfalls))
    pitfalls[after:after] = [zero_sigmoid_moons(p)]          # beside the circles demonstration
    return (pitfalls + [weight_scale(p)]
            + heuristic_experiments(p, matrix, _deep_pair(depth, p.depths), axis)
            + [framework_defaults(p), zero_bias(p), depth_study(p, depth)])


def catalogue_configs(experiments: list[Experiment]) -> list[RunConfig]:
    """Every distinct configuration of the catalogue, in first-seen order."""
    seen: dict[RunConfig, None] = {}
    for e in experiments:
        for r in e.runs:
            seen.setdefault(r.config, None)
    return list(seen)


def get_experiment(experiments: list[Experiment], exp_id: str) -> Experiment:
    by_id = {e.id: e for e in experiments}
    try:
        return by_id[exp_id]
    except KeyError:
        raise choice_error("experiment", exp_id, by_id) from None


def matrix_experiment(experiments: list[Experiment]) -> Experiment | None:
    """The experiment that declares itself the source of the site's matrix (``matrix=True``)."""
    return next((e for e in experiments if e.matrix), None)
