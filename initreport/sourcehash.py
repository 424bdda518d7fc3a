"""Reading what a function's compiled code refers to: the one walker both source hashes use.

Two hashes follow a function's *source closure* (the function plus the code it uses):

* :func:`initreport.keys.source_closure` for run cache keys, which follows only into the engine
  modules it is told to (a dataset counts by its arrays, a message by nothing) and hashes
  closures by their captured values;
* :func:`initreport.figures.registry.fingerprint` for figure kinds, which follows every project
  function a kind calls and includes the plain data it reads, but leaves out the shared style
  (hashed whole).

The policies differ on purpose (what may invalidate a run is narrower than what may re-render a
figure); the reading of code objects is shared here so that both see the same names.
"""

from __future__ import annotations

import dis
import types


def code_names(code: types.CodeType) -> set[str]:
    """Global (and attribute) names a code object and the code nested in it refer to."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= code_names(const)
    return names


def module_attributes(code: types.CodeType, module_names: set[str]) -> set[tuple[str, str]]:
    """``(module global, attribute)`` pairs the code reads as ``module.attribute``, nested code included."""
    pairs = set()
    previous = None
    for ins in dis.get_instructions(code):
        if previous is not None and ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
            pairs.add((previous, ins.argval))
        previous = ins.argval if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and ins.argval in module_names else None
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            pairs |= module_attributes(const, module_names)
    return pairs


def functions_of(cls: type):
    """The plain functions a class defines (methods, static/class methods, property accessors)."""
    for member in vars(cls).values():
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if isinstance(member, property):
            yield from (f for f in (member.fget, member.fset, member.fdel) if f is not None)
        elif isinstance(member, types.FunctionType):
            yield member
