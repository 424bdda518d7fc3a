"""Verdict rules, one module per family, registered by name (see :mod:`.base`).

Every module of this package is imported here (in name order), so a new family of rules is
one new file: its ``@rule(...)`` functions register themselves.
"""

import importlib
import pkgutil

from .base import RULES, RuleSpec, judge, rule, verdict

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "base":
        importlib.import_module(f"{__name__}.{_module}")

__all__ = ["RULES", "RuleSpec", "judge", "rule", "verdict"]
