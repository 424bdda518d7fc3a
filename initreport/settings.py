"""The optional settings file, ``initreport.toml`` at the project root, validated once, up front.

Example::

    [build]
    profile = "default"     # the profile `initreport build` uses without --profile/--quick
    jobs = 2                # processes (default: the number of cores)
    scheduler = "tcp://head:8786"   # optional: run the stacks on this Dask cluster

    [profile.default]       # override knobs of a built-in profile…
    seeds = [0, 1, 2, 3, 4]
    depths = [2, 5, 10, 20, 30, 40]

    [profile.lecture]       # …or define a new one, starting from `base` (default: "default")
    base = "quick"
    epochs = 10

Every error names the key, the bad value and what is allowed.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import InitReportError
from .catalogue.profiles import PROFILES, Profile

FILENAME = "initreport.toml"
TWO_D_SETS = ("spirals", "circles", "moons")

# Knob → (kind, description of what is allowed). Kinds: int ≥ 1, int ≥ 0 list, etc.
KNOBS = {
    "seeds": ("seed_list", "a non-empty list of distinct whole numbers ≥ 0 (at most 64)"),
    "compare_seeds": ("seed_list", "a non-empty list of distinct whole numbers ≥ 0 (at most 64)"),
    "epochs": ("int", "a whole number from 1 to 10000"),
    "epochs_2d": ("int", "a whole number from 1 to 10000"),
    "depth_epochs": ("int", "a whole number from 1 to 10000"),
    "depths": ("int_list", "a non-empty list of distinct whole numbers from 1 to 200"),
    "sweep_gains": ("float_list", "a list of at least 3 distinct finite numbers > 0"),
    "matrix_datasets": ("dataset_list", "a non-empty list from: digits, " + ", ".join(TWO_D_SETS)),
    "deep": ("int", "a whole number from 1 to 200"),
    "variance_depth": ("int", "a whole number from 2 to 200"),
    "variance_width": ("int", "a whole number from 1 to 4096"),
    "width": ("int", "a whole number from 2 to 1024"),
    "description": ("str", "a short text"),
    "axis_depths": ("int_list", "a non-empty list of distinct whole numbers from 1 to 200"),
    "axis_epochs": ("int", "a whole number from 1 to 10000"),
    "selection_seeds": ("seed_list", "a non-empty list of distinct whole numbers ≥ 0 (at most 64)"),
    "extend_seeds": ("seed_list", "a list of distinct whole numbers ≥ 0 (at most 64; empty: no second look)"),
    "explorer": ("choice", "one of: large, none, small (the Explore page's grid)"),
}
CHOICES = {"explorer": ("large", "none", "small")}
LIMITS = {"axis_epochs": (1, 10000), "epochs": (1, 10000), "epochs_2d": (1, 10000), "depth_epochs": (1, 10000), "deep": (1, 200),
          "variance_depth": (2, 200), "variance_width": (1, 4096), "width": (2, 1024)}


@dataclass(frozen=True)
class Settings:
    profiles: dict = field(default_factory=lambda: dict(PROFILES))
    default_profile: str = "default"
    jobs: int | None = None
    scheduler: str | None = None     # a Dask scheduler address: stacks run on that cluster
    source: Path | None = None

    def profile(self, name: str | None) -> Profile:
        name = name or self.default_profile
        try:
            return self.profiles[name]
        except KeyError:
            where = f" (built-in or defined in {self.source.name})" if self.source else ""
            raise InitReportError(f"unknown profile {name!r}; choose one of{where}: "
                                  + ", ".join(sorted(self.profiles))) from None


def _bad(key: str, value, allowed: str) -> InitReportError:
    return InitReportError(f"{FILENAME}: {key} = {value!r} is not allowed; it must be {allowed}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _finite(v) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:                    # an int too large for a float (TOML allows it)
        return False


def check_knob(key: str, name: str, value):
    """The validated value of one profile knob (lists become tuples)."""
    kind, allowed = KNOBS[name]
    if kind == "int":
        lo, hi = LIMITS[name]
        if not _is_int(value) or not lo <= value <= hi:
            raise _bad(key, value, allowed)
        return value
    if kind == "choice":
        if not isinstance(value, str) or value not in CHOICES[name]:
            raise _bad(key, value, allowed)
        return value
    if kind == "str":
        if not isinstance(value, str) or len(value) > 300:
            raise _bad(key, value, allowed)
        return value
    if name == "extend_seeds" and value == []:
        return ()                            # no second look
    if not isinstance(value, list) or not value:
        raise _bad(key, value, allowed)
    if kind == "seed_list":
        if len(value) > 64 or not all(_is_int(v) and v >= 0 for v in value) or len(set(value)) != len(value):
            raise _bad(key, value, allowed)
    elif kind == "int_list":
        # Duplicates would give two runs the same label (one silently hides the other).
        if not all(_is_int(v) and 1 <= v <= 200 for v in value) or len(set(value)) != len(value):
            raise _bad(key, value, allowed)
    elif kind == "float_list":
        if len(value) < 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                     and _finite(v) and v > 0 for v in value):
            raise _bad(key, value, allowed)
        floats = [float(v) for v in value]
        if len(set(floats)) != len(floats):    # 1 and 1.0 are the same gain
            raise _bad(key, value, allowed)
        value = floats
    elif kind == "dataset_list":
        if not all(v == "digits" or v in TWO_D_SETS for v in value) or len(set(value)) != len(value):
            raise _bad(key, value, allowed)
    return tuple(value)


def parse_settings(data: dict, source: Path | None = None) -> Settings:
    """Settings from the parsed TOML, or an InitReportError naming the first problem."""
    allowed_top = {"build", "profile"}
    for key in data:
        if key not in allowed_top:
            raise InitReportError(f"{FILENAME}: unknown section [{key}]; allowed: [build], [profile.NAME]")
    profiles = dict(PROFILES)
    raw_profiles = data.get("profile", {})
    if not isinstance(raw_profiles, dict):
        raise InitReportError(f"{FILENAME}: 'profile' must be tables like [profile.default]")
    for name, table in raw_profiles.items():
        if not isinstance(table, dict):
            raise InitReportError(f"{FILENAME}: profile.{name} must be a table ([profile.{name}])")
        if not name.replace("-", "").replace("_", "").isalnum():
            raise InitReportError(f"{FILENAME}: profile name {name!r} may use letters, digits, - and _ only")
        base_name = table.get("base", name if name in PROFILES else "default")
        if not isinstance(base_name, str) or base_name not in PROFILES:
            raise _bad(f"profile.{name}.base", base_name, "one of " + ", ".join(sorted(PROFILES)))
        changes = {}
        for knob, value in table.items():
            if knob == "base":
                continue
            if knob not in KNOBS:
                raise InitReportError(f"{FILENAME}: unknown key profile.{name}.{knob}; allowed: base, "
                                      + ", ".join(sorted(KNOBS)))
            changes[knob] = check_knob(f"profile.{name}.{knob}", knob, value)
        base = PROFILES[base_name]
        profile = replace(base, name=name, **changes)
        if name != base_name and "description" not in changes:
            profile = replace(profile, description=f"{base.description} (customised in {FILENAME})")
        elif changes and "description" not in changes:
            profile = replace(profile, description=f"{base.description} (customised in {FILENAME})")
        profiles[name] = profile

    build = data.get("build", {})
    if not isinstance(build, dict):
        raise InitReportError(f"{FILENAME}: 'build' must be a table ([build])")
    for key in build:
        if key not in ("profile", "jobs", "scheduler"):
            raise InitReportError(f"{FILENAME}: unknown key build.{key}; allowed: profile, jobs, scheduler")
    default_profile = build.get("profile", "default")
    if not isinstance(default_profile, str) or default_profile not in profiles:
        raise _bad("build.profile", default_profile, "one of " + ", ".join(sorted(profiles)))
    jobs = build.get("jobs")
    if jobs is not None and (not _is_int(jobs) or not 1 <= jobs <= 256):
        raise _bad("build.jobs", jobs, "a whole number from 1 to 256")
    scheduler = build.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler
                                  or not scheduler.split("://", 1)[1] or len(scheduler) > 300):
        raise _bad("build.scheduler", scheduler, 'a Dask scheduler address like "tcp://HOST:8786"')
    return Settings(profiles=profiles, default_profile=default_profile, jobs=jobs, scheduler=scheduler,
                    source=source)


def load_settings(project_dir: Path) -> Settings:
    """The project's settings: the defaults when there is no initreport.toml."""
    path = Path(project_dir) / FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise InitReportError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InitReportError(f"{FILENAME} is not valid TOML: {exc}") from None
    return parse_settings(data, source=path)


def profile_fields() -> list[str]:
    return [f.name for f in fields(Profile)]
