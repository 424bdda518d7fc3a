"""initreport.toml: valid tables become exactly the profiles they describe; anything else is one clear error."""

from __future__ import annotations

import math
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initreport.errors import InitReportError
from initreport.catalogue import PROFILES
from initreport.settings import CHOICES, KNOBS, LIMITS, TWO_D_SETS, load_settings, parse_settings

INT64 = 2**63 - 1      # TOML's integers; tomllib accepts larger ones too, so they are tested as well
NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,11}", fullmatch=True)
DATASETS = ("digits",) + TWO_D_SETS


def valid_value(knob: str):
    kind = KNOBS[knob][0]
    if kind == "int":
        lo, hi = LIMITS[knob]
        return st.integers(lo, hi)
    if kind == "str":
        return st.text(max_size=300)
    if kind == "seed_list":
        return st.lists(st.integers(0, INT64), min_size=1, max_size=64, unique=True)
    if kind == "int_list":
        return st.lists(st.integers(1, 200), min_size=1, max_size=10, unique=True)
    if kind == "float_list":
        gains = st.one_of(st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False),
                          st.integers(1, INT64))
        return st.lists(gains, min_size=3, max_size=8, unique_by=float)
    if kind == "dataset_list":
        return st.lists(st.sampled_from(DATASETS), min_size=1, unique=True)
    if kind == "choice":
        return st.sampled_from(CHOICES[knob])
    raise AssertionError(kind)


@st.composite
def valid_tables(draw):
    knobs = draw(st.lists(st.sampled_from(sorted(KNOBS)), unique=True))
    table = {k: draw(valid_value(k)) for k in knobs}
    if draw(st.booleans()):
        table["base"] = draw(st.sampled_from(sorted(PROFILES)))
    return table


def expected_field(knob, value):
    if KNOBS[knob][0] == "float_list":
        return tuple(float(v) for v in value)
    return tuple(value) if isinstance(value, list) else value


@given(name=NAMES, table=valid_tables(), jobs=st.none() | st.integers(1, 256), use_as_default=st.booleans())
def test_valid_tables_give_profiles_equal_to_the_input(name, table, jobs, use_as_default):
    data = {"profile": {name: table}}
    build = {}
    if jobs is not None:
        build["jobs"] = jobs
    if use_as_default:
        build["profile"] = name
    if build:
        data["build"] = build
    s = parse_settings(data)
    prof = s.profile(name)
    base = PROFILES[table.get("base", name if name in PROFILES else "default")]
    assert prof.name == name
    for knob in KNOBS:
        if knob in table:
            assert getattr(prof, knob) == expected_field(knob, table[knob]), knob
        elif knob != "description":
            assert getattr(prof, knob) == getattr(base, knob), knob
    if "description" not in table:
        assert prof.description.startswith(base.description)
    assert s.jobs == jobs
    assert s.default_profile == (name if use_as_default else "default")
    others = set(PROFILES) - {name}
    assert all(s.profiles[o] == PROFILES[o] for o in others)       # other profiles untouched


# --- invalid values, per knob --------------------------------------------------------------

ANY_SCALAR = st.one_of(st.booleans(), st.integers(-INT64, INT64), st.floats(), st.text(max_size=5), st.none())
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])


def invalid_value(knob: str):
    kind = KNOBS[knob][0]
    not_a_list = st.one_of(ANY_SCALAR, st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
    if kind == "int":
        lo, hi = LIMITS[knob]
        return st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1), st.booleans(),
                         st.floats(), st.text(max_size=5), st.lists(st.integers(lo, hi), min_size=1, max_size=2),
                         st.just(float(lo)))
    if kind == "str":
        return st.one_of(st.integers(), st.booleans(), st.floats(), st.lists(st.text(max_size=3), max_size=2),
                         st.text(min_size=301, max_size=400))
    if kind == "choice":
        return st.one_of(ANY_SCALAR, st.lists(st.sampled_from(CHOICES[knob]), min_size=1, max_size=2)).filter(
            lambda v: v not in CHOICES[knob])
    if kind == "seed_list":
        good = st.integers(0, 1000)
        return st.one_of(
            not_a_list, st.just([]),
            st.lists(good, min_size=1, max_size=5).map(lambda xs: xs + [xs[0]]),             # duplicates
            st.lists(good, max_size=3).flatmap(lambda xs: st.integers(max_value=-1).map(lambda b: xs + [b])),
            st.lists(good, max_size=3, unique=True).map(lambda xs: xs + [True]),             # bools are not ints
            st.lists(good, max_size=3, unique=True).flatmap(
                lambda xs: st.sampled_from([1.0, "1", None, [1]]).map(lambda b: xs + [b])),
            st.just(list(range(65))),                                                        # too many
        )
    if kind == "int_list":
        good = st.integers(1, 200)
        return st.one_of(
            not_a_list, st.just([]),
            st.lists(good, min_size=1, max_size=5).map(lambda xs: xs + [xs[0]]),
            st.lists(good, max_size=3).flatmap(
                lambda xs: st.one_of(st.integers(max_value=0), st.integers(min_value=201)).map(lambda b: xs + [b])),
            st.lists(good, max_size=3).flatmap(
                lambda xs: st.sampled_from([True, False, 2.0, "2", None]).map(lambda b: xs + [b])),
        )
    if kind == "float_list":
        good = st.floats(min_value=1e-3, max_value=1e3)
        three = st.lists(good, min_size=2, max_size=4, unique=True)
        return st.one_of(
            not_a_list, st.just([]),
            st.lists(good, max_size=2, unique=True),                                          # fewer than 3
            three.flatmap(lambda xs: NON_FINITE.map(lambda b: xs + [b])),                     # NaN / inf gains
            three.flatmap(lambda xs: st.floats(max_value=0.0).map(lambda b: xs + [b])),       # ≤ 0
            three.flatmap(lambda xs: st.sampled_from([True, "1", None, [1.0]]).map(lambda b: xs + [b])),
            three.map(lambda xs: xs + [xs[0]]),                                              # duplicates
            three.map(lambda xs: xs + [10**400]),                                            # overflows a float
        )
    if kind == "dataset_list":
        return st.one_of(
            not_a_list, st.just([]),
            st.lists(st.sampled_from(DATASETS), min_size=1, max_size=3).map(lambda xs: xs + [xs[0]]),
            st.lists(st.sampled_from(DATASETS), max_size=2).flatmap(
                lambda xs: st.one_of(st.text(max_size=8).filter(lambda t: t not in DATASETS), st.integers(),
                                     st.none()).map(lambda b: xs + [b])),
        )
    raise AssertionError(kind)


@st.composite
def one_bad_knob(draw):
    knob = draw(st.sampled_from(sorted(KNOBS)))
    return knob, draw(invalid_value(knob))


@settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much])
@given(name=NAMES, bad=one_bad_knob(), extra=valid_tables())
def test_invalid_knob_values_name_the_key(name, bad, extra):
    knob, value = bad
    extra.pop(knob, None)
    table = {**extra, knob: value}
    with pytest.raises(InitReportError) as err:      # any other exception type fails the test
        parse_settings({"profile": {name: table}})
    assert f"profile.{name}.{knob}" in str(err.value)
    assert "\n" not in str(err.value)


@given(name=NAMES, key=st.text(min_size=1, max_size=12).filter(lambda k: k not in KNOBS and k != "base"),
       value=ANY_SCALAR)
def test_unknown_profile_keys_are_rejected_by_name(name, key, value):
    with pytest.raises(InitReportError) as err:
        parse_settings({"profile": {name: {key: value}}})
    assert f"unknown key profile.{name}.{key}" in str(err.value)


@given(key=st.text(min_size=1, max_size=12).filter(lambda k: k not in ("profile", "jobs")), value=ANY_SCALAR)
def test_unknown_build_keys_are_rejected_by_name(key, value):
    with pytest.raises(InitReportError) as err:
        parse_settings({"build": {key: value}})
    assert f"build.{key}" in str(err.value)


@given(section=st.text(min_size=1, max_size=12).filter(lambda k: k not in ("profile", "build")))
def test_unknown_sections_are_rejected_by_name(section):
    with pytest.raises(InitReportError) as err:
        parse_settings({section: {}})
    assert f"[{section}]" in str(err.value)


@given(value=st.one_of(ANY_SCALAR, st.lists(st.text(max_size=3), max_size=2), st.dictionaries(
    st.text(max_size=3), st.integers(), max_size=2)).filter(lambda v: not (isinstance(v, str) and v in PROFILES)))
def test_bad_base_and_default_profile_name_the_key(value):
    with pytest.raises(InitReportError) as err:
        parse_settings({"profile": {"mine": {"base": value}}})
    assert "profile.mine.base" in str(err.value)
    with pytest.raises(InitReportError) as err:
        parse_settings({"build": {"profile": value}})
    assert "build.profile" in str(err.value)


@given(jobs=st.one_of(st.integers(max_value=0), st.integers(min_value=257), st.booleans(), st.floats(),
                      st.text(max_size=3), st.lists(st.integers(1, 4), max_size=2)))
def test_bad_jobs_name_the_key(jobs):
    with pytest.raises(InitReportError) as err:
        parse_settings({"build": {"jobs": jobs}})
    assert "build.jobs" in str(err.value)


@given(name=st.text(max_size=8).filter(lambda n: not n.replace("-", "").replace("_", "").isalnum()))
def test_bad_profile_names_are_rejected(name):
    with pytest.raises(InitReportError) as err:
        parse_settings({"profile": {name: {"epochs": 2}}})
    assert repr(name) in str(err.value)


def test_a_profile_defined_in_the_file_is_selectable(tmp_path):
    (tmp_path / "initreport.toml").write_text(
        '[build]\nprofile = "lecture"\njobs = 2\n\n[profile.lecture]\nbase = "quick"\nepochs = 10\n'
        'sweep_gains = [0.01, 1, 10.0]\n')
    s = load_settings(tmp_path)
    p = s.profile(None)
    assert (p.name, p.epochs, p.sweep_gains, p.seeds, s.jobs) == ("lecture", 10, (0.01, 1.0, 10.0),
                                                                   PROFILES["quick"].seeds, 2)
    with pytest.raises(InitReportError, match="unknown profile 'nope'"):
        s.profile("nope")


def test_width_knob_widens_the_digits_networks_of_the_catalogue(tmp_path):
    """A teacher's wider catalogue: every digits network that does not fix its own width follows the knob."""
    from initreport.catalogue import build_catalogue, catalogue_configs

    (tmp_path / "initreport.toml").write_text('[profile.wide]\nbase = "quick"\nwidth = 128\n')
    wide = load_settings(tmp_path).profile("wide")
    assert wide.width == 128 and PROFILES["quick"].width == 64
    def without_width(configs):
        return sorted(repr({k: v for k, v in c.to_dict().items() if k != "width"}) for c in configs)

    after = catalogue_configs(build_catalogue(wide))
    assert without_width(after) == without_width(catalogue_configs(build_catalogue("quick")))   # only widths differ
    digits = [c for c in after if c.dataset == "digits" and c.width not in (96, 128)]
    assert digits == [], digits      # all digits runs at 128, but Glorot's 96 (fan_in ≠ fan_out on purpose)
    assert sum(c.width == 128 for c in after) > len(after) // 2


def test_no_file_means_the_built_in_profiles(tmp_path):
    s = load_settings(tmp_path)
    assert s.profiles == PROFILES and s.default_profile == "default" and s.jobs is None


@pytest.mark.parametrize("text,key", [
    ('[profile.quick]\ndepths = [2, 2, 10]\n', "profile.quick.depths"),
    ('[profile.quick]\nsweep_gains = [1, 1.0, 2]\n', "profile.quick.sweep_gains"),
    ('[profile.x]\nbase = ["quick"]\n', "profile.x.base"),
    ('[build]\nprofile = ["quick"]\n', "build.profile"),
    ('[profile.quick]\nsweep_gains = [1, 2, 1' + '0' * 400 + ']\n', "profile.quick.sweep_gains"),
], ids=["duplicate-depths", "duplicate-gains", "base-list", "build-profile-list", "gain-overflow"])
def test_regressions_from_real_toml(tmp_path, text, key):
    """Each once passed validation (duplicate labels later) or crashed with TypeError/OverflowError."""
    tomllib.loads(text)                               # valid TOML
    (tmp_path / "initreport.toml").write_text(text)
    with pytest.raises(InitReportError) as err:
        load_settings(tmp_path)
    assert key in str(err.value)
