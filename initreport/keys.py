"""Cache keys: each result is keyed by exactly what it depends on.

A **run's key** is the SHA-256 of

* the *engine core* every run executes: the whole of ``network.py`` and ``diagnostics.py``;
  :func:`runner.run_stack` (training and the reduction to a result) and :class:`runner.RunConfig`
  with everything they use, transitively, followed into the engine modules (:data:`ENGINE_MODULES`)
  but not into ``datasets.py`` or ``errors.py``; the shared initialiser machinery
  (:func:`initializers.initialize`, :class:`initializers.InitInfo`) and the shared activation
  code (:class:`activations.Activation`, the softmax cross-entropy);
* the code of the run's **initialiser**: its registry function plus every function, class and
  constant of ``initializers.py`` it uses, transitively (for Glorot/He/LeCun that includes the
  variance-scaling core and the closure's parameters), and its registry entry's defaults;
* the code of the run's **activation**, found the same way in ``activations.py``;
* the run's **dataset**: a hash of the arrays it loads (not of ``datasets.py``'s source);
* the run's **configuration**, and the versions of Python and NumPy, and :data:`KEY_SCHEME`.

"Uses" is read from the compiled code: the global names a function's code (and the code of
functions nested in it) refers to, looked up in its module, and the ``module.name`` attributes
it reads of an engine module. Other modules are not followed (libraries count through their
versions). Registries (dicts, lists) are not hashed as a whole; the entry a run uses is.

A **figure's key** (one per experiment and figure kind) is the SHA-256 of the kind's
fingerprint (its own function and the figures' shared style: ``figures.fingerprint(kind)``),
the experiment (its fields and, per run, its role, label and run key, in run order) and the
matplotlib version. So editing one initialiser reruns only the runs that use it, editing one
figure kind re-renders only that kind, and editing the engine core reruns everything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import platform
import sys
import types
from functools import lru_cache
from pathlib import Path

import numpy as np

from .sourcehash import code_names, functions_of, module_attributes

# Bump when the way keys are formed changes, so no entry keyed the old way is ever served.
KEY_SCHEME = "initreport.keys/2"

# The modules whose code the engine core is followed into from runner.run_stack (not datasets.py:
# a dataset counts by its arrays; not errors.py: messages change no number).
ENGINE_MODULES = ("runner", "network", "diagnostics", "initializers", "activations")

_SIMPLE = (int, float, complex, str, bytes, bool, type(None))


def _sha(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        data = p.encode() if isinstance(p, str) else p
        h.update(len(data).to_bytes(8, "little"))     # length-prefixed: parts cannot run together
        h.update(data)
    return h.hexdigest()


def _is_simple(value) -> bool:
    if isinstance(value, _SIMPLE):
        return True
    return isinstance(value, (tuple, frozenset)) and all(_is_simple(v) for v in value)


def source_closure(roots: dict[str, object], module: types.ModuleType, follow=()) -> dict[str, str]:
    """``{name: text}`` for ``roots`` and every global of ``module`` they use, transitively.

    Functions and classes contribute their source; a function made inside another (a closure
    such as ``variance_scaling(2.0, "fan_in", "uniform")``) contributes the enclosing function's
    source and the values it captured; simple constants their ``repr``. What the code takes from
    a module named in ``follow`` (``from .x import f``, or ``x.f``) is followed into that module
    the same way. Anything else (other imports, registries) is left out; see the module docstring.
    """
    follow = {module.__name__, *follow}
    out: dict[str, str] = {}
    todo = [(module, name, obj) for name, obj in roots.items()]
    while todo:
        mod, name, obj = todo.pop()
        home = getattr(obj, "__module__", None)
        if isinstance(obj, (types.FunctionType, type)) and home != mod.__name__:
            if home in follow and "<locals>" not in obj.__qualname__:    # imported: follow it home
                todo.append((sys.modules[home], obj.__name__, obj))
            continue
        key = f"{mod.__name__}.{name}"
        if key in out:
            continue
        g = vars(mod)
        codes: list[types.CodeType] = []
        if isinstance(obj, types.FunctionType):
            if "<locals>" in obj.__qualname__:
                owner = obj.__qualname__.split(".")[0]
                cells = dict(zip(obj.__code__.co_freevars, (c.cell_contents for c in obj.__closure__ or ())))
                out[key] = f"closure made by {owner}: " + repr(sorted(
                    (k, repr(v) if _is_simple(v) else "") for k, v in cells.items()))
                todo += [(mod, f"{name}.{k}", v) for k, v in cells.items() if not _is_simple(v)]
                if owner in g:
                    todo.append((mod, owner, g[owner]))
            else:
                out[key] = inspect.getsource(obj)
            codes.append(obj.__code__)
        elif isinstance(obj, type):
            out[key] = inspect.getsource(obj)
            codes += [f.__code__ for f in functions_of(obj)]
        elif _is_simple(obj):
            out[key] = repr(obj)
        for code in codes:
            todo += [(mod, n, g[n]) for n in sorted(code_names(code))
                     if n in g and not n.startswith("__") and not isinstance(g[n], types.ModuleType)]
            modules = {n for n in code.co_names if isinstance(g.get(n), types.ModuleType) and g[n].__name__ in follow}
            modules |= {n for c in code.co_consts if isinstance(c, types.CodeType) for n in c.co_names
                        if isinstance(g.get(n), types.ModuleType) and g[n].__name__ in follow}
            for n, attr in sorted(module_attributes(code, modules)):
                target = g[n]
                if attr in vars(target):
                    todo.append((target, attr, vars(target)[attr]))
    return out


def _hash_closure(roots: dict[str, object], module: types.ModuleType, follow=()) -> str:
    parts = source_closure(roots, module, follow)
    return _sha(module.__name__, *(f"{k}\0{v}" for k, v in sorted(parts.items())))


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """The engine core every run executes, plus the versions of Python and NumPy."""
    from . import activations, initializers, runner

    root = Path(__file__).parent
    files = [_sha(name, (root / name).read_bytes()) for name in ("network.py", "diagnostics.py")]
    return _sha(
        KEY_SCHEME, *files,
        _hash_closure({"run_stack": runner.run_stack, "RunConfig": runner.RunConfig}, runner,
                      follow=[f"initreport.{m}" for m in ENGINE_MODULES]),
        _hash_closure({"initialize": initializers.initialize, "InitInfo": initializers.InitInfo}, initializers),
        _hash_closure({"Activation": activations.Activation, "get_activation": activations.get_activation,
                       "softmax_cross_entropy": activations.softmax_cross_entropy,
                       "softmax_cross_entropy_grad_": activations.softmax_cross_entropy_grad_}, activations),
        f"python {platform.python_version()}; numpy {np.__version__}",
    )


@lru_cache(maxsize=None)
def initializer_fingerprint(name: str) -> str:
    """The code of one initialiser (its function and what it uses) and its registry defaults."""
    from . import initializers

    info = initializers.get_info(name)
    defaults = repr((sorted(info.params.items()), info.default_bias, info.bias_param))
    # The law (theoretical mean/std/bounds) is part of it: figures draw the theory line from it.
    roots = {info.function.__name__: info.function, f"{name}.law": info.law,
             "InitInfo.mean": initializers.InitInfo.mean, "InitInfo.std": initializers.InitInfo.std}
    return _sha(name, defaults, _hash_closure(roots, initializers))


@lru_cache(maxsize=None)
def activation_fingerprint(name: str) -> str:
    """The code of one activation: its forward, derivative and in-place variants, and what they use."""
    from . import activations

    act = activations.get_activation(name)
    roots = {f"{name}.{field.name}": getattr(act, field.name) for field in dataclasses.fields(act)
             if callable(getattr(act, field.name))}
    flags = repr((act.name, act.saturates, act.can_die))
    return _sha(name, flags, _hash_closure(roots, activations))


@lru_cache(maxsize=None)
def dataset_fingerprint(name: str, split: str = "test") -> str:
    """A hash of the arrays the dataset loads (train/held-out split, standardised), not of its loader's code."""
    from .datasets import load_split

    data = load_split(name, split)
    parts = [repr((data.n_classes, data.is_2d))]
    for field in ("x_train", "y_train", "x_test", "y_test"):
        arr = np.ascontiguousarray(getattr(data, field))
        parts += [f"{field} {arr.dtype.str} {arr.shape}", arr.tobytes()]
    return _sha(*parts)


def run_key(config) -> str:
    """The cache key of a RunConfig: see the module docstring for what it covers."""
    from .cache import canonical_json

    payload = config.to_dict()
    return _sha(
        "run", engine_fingerprint(),
        initializer_fingerprint(config.init),
        activation_fingerprint(config.activation),
        dataset_fingerprint(config.dataset, config.split),
        canonical_json(payload),
    )


def figure_fingerprint(kind: str) -> str:
    """``figures.fingerprint(kind)``: the kind's own code, the shared style, the matplotlib version."""
    from . import figures

    return figures.fingerprint(kind)


def figure_key(exp, kind: str, runs: list[tuple[str, str, str]]) -> str:
    """Key of one figure: its kind's fingerprint, the experiment, its runs' (role, label, key), matplotlib."""
    import matplotlib

    from .cache import canonical_json

    fields = {f.name: getattr(exp, f.name) for f in dataclasses.fields(exp)
              if f.name not in ("runs", "figures") and _is_simple(getattr(exp, f.name))}
    payload = canonical_json({"experiment": fields, "kind": kind, "runs": [list(r) for r in runs],
                              "matplotlib": matplotlib.__version__})
    return _sha("figure", KEY_SCHEME, figure_fingerprint(kind), payload)
