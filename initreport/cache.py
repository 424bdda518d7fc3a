"""A result cache keyed by the hash of everything that produced the result.

The key of a run is the SHA-256 of what its result depends on: the engine core, the code of
its initialiser and activation, its dataset's arrays, its configuration and the versions of
Python and NumPy (:mod:`initreport.keys` says exactly how). Change any of them and the key
changes, so a stale result is never served. Each entry is one JSON file holding the
result and a checksum of it; it is written to a temporary file and renamed into place,
so a killed build leaves either the whole entry or none. An entry whose checksum does not
match (a disk fault, a hand edit), or whose result does not have the schema's required
keys (:func:`valid_result`), is discarded and its run recomputed. Every path is checked with
:func:`initreport.safety.inside`, so nothing is read or written through a link out of the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .errors import InitReportError
from .safety import SHA256, inside


def canonical_json(obj) -> str:
    """The one serialisation used for hashing and for result files: sorted keys, no spaces."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def engine_fingerprint() -> str:
    """The engine core every run executes (see :mod:`initreport.keys`)."""
    from .keys import engine_fingerprint as fingerprint
    return fingerprint()


def run_key(config) -> str:
    """The cache key of a RunConfig: what its result depends on (see :mod:`initreport.keys`)."""
    from .keys import run_key as key
    return key(config)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    # The writer's pid is in the name, so a temporary file left by a killed writer can be told apart.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644 & ~_UMASK)      # mkstemp makes 0600; pages and figures are served to others
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _is_stale_temp(path: Path) -> bool:
    """A temporary file of :func:`atomic_write` whose writer process no longer exists."""
    parts = path.name.split(".")      # "", <key>, "json", <pid>, <random>, "tmp"
    if len(parts) < 4 or not parts[-3].isdigit():
        return False
    try:
        os.kill(int(parts[-3]), 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # alive under another user, or not a pid at all
        return False
    return False


class ResultCache:
    """Results on disk under ``root/results/<key[:2]>/<key>.json``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.discarded: list[str] = []     # keys of corrupt entries thrown away in this session
        self._remove_stale_temps()

    def _remove_stale_temps(self) -> None:
        """Temporary files of writers that were killed mid-write (never those of a live build)."""
        for tmp in self.root.glob("results/*/.*.tmp"):
            if _is_stale_temp(tmp) and not tmp.is_symlink() and self.root.resolve() in tmp.resolve().parents:
                tmp.unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        if not SHA256.fullmatch(key):
            raise ValueError(f"not a cache key: {key!r}")
        # Contained in the folder holding the cache: no component may link out of it.
        return inside(self.root.parent, f"{self.root.name}/results/{key[:2]}/{key}.json")

    def get(self, key: str) -> dict | None:
        """The cached result, or None when absent or invalid (an invalid entry is removed).

        Invalid: not JSON, a checksum or key that does not match, or a result without the
        schema's required keys; each is discarded and rerun, never used.
        """
        path = self.path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InitReportError(f"cannot read cache entry {path}: {exc.strerror}") from None
        try:
            entry = json.loads(raw)
            payload = entry["result"]
            ok = (entry.get("key") == key and entry.get("checksum") == _checksum(payload)
                  and valid_result(payload))
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            self.discarded.append(key)
            path.unlink(missing_ok=True)
            return None
        return payload

    def put(self, key: str, result: dict) -> None:
        try:
            atomic_write(self.path(key), canonical_json({"key": key, "checksum": _checksum(result), "result": result}))
        except OSError as exc:
            raise InitReportError(f"cannot write the cache in {self.root}: {exc.strerror}") from None

    def __contains__(self, key: str) -> bool:
        return self.path(key).exists()


# What a result must hold to be used (initreport.result/1); anything else is discarded.
RESULT_KEYS = {"schema": str, "config": dict, "sizes": list, "n_seeds": int, "diverged": list,
               "layers": list, "checkpoints": list, "history": list, "final": dict}
SUMMARY_KEYS = ("mean", "std", "min", "max", "n", "values")
FINAL_KEYS = ("loss", "accuracy", "test_loss", "test_accuracy")
LAYER_KEYS = ("layer", "fan_in", "fan_out", "activation_mean", "activation_std", "pre_activation_std",
              "saturated_fraction", "dead_fraction", "gradient_std", "weight_grad_norm", "weight_norm")


def _summary(x) -> bool:
    return isinstance(x, dict) and all(k in x for k in SUMMARY_KEYS) and isinstance(x["values"], list)


def valid_result(r) -> bool:
    """True if ``r`` has the structure of an ``initreport.result/1`` result (keys and types)."""
    from .runner import RESULT_SCHEMA
    if not isinstance(r, dict) or any(not isinstance(r.get(k), t) for k, t in RESULT_KEYS.items()):
        return False
    if r["schema"] != RESULT_SCHEMA or "boundary" not in r or "output_layer" not in r:
        return False
    if not r["history"] or not all(isinstance(h, dict) and all(_summary(h.get(k)) for k in FINAL_KEYS)
                                   for h in r["history"]):
        return False
    if not all(_summary(r["final"].get(k)) for k in FINAL_KEYS):
        return False
    if not all(isinstance(d, dict) and isinstance(d.get("seed"), int) and isinstance(d.get("epoch"), int)
               for d in r["diverged"]):
        return False
    layers = list(r["layers"])
    for cp in r["checkpoints"]:
        if not isinstance(cp, dict) or not isinstance(cp.get("epoch"), int) or not isinstance(cp.get("layers"), list):
            return False
        layers += cp["layers"]
    return all(isinstance(layer, dict) and all(k in layer for k in LAYER_KEYS)
               and all(_summary(layer[k]) for k in LAYER_KEYS[3:]) for layer in layers)


def _checksum(result: dict) -> str:
    return hashlib.sha256(canonical_json(result).encode()).hexdigest()
