"""Verdict rules, one module per family, registered by name (see :mod:`.base`)."""

from . import depth, formulas, matrix, scale, symmetry  # noqa: F401  (registers the rules)
from .base import RULES, RuleSpec, judge, rule, verdict

__all__ = ["RULES", "RuleSpec", "judge", "rule", "verdict"]
