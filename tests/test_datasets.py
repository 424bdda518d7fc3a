"""Tests for initreport.datasets: built-in sets, the split, and the CSV loader."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initreport import datasets
from initreport.datasets import BUILTIN_DATASETS, Dataset, load_csv, load_dataset
from initreport.errors import InitReportError

GENERATED = ["spirals", "circles", "moons"]
FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _all_y(d: Dataset) -> np.ndarray:
    return np.concatenate([d.y_train, d.y_test])


def _arrays(d: Dataset) -> list[np.ndarray]:
    return [d.x_train, d.y_train, d.x_test, d.y_test, *d.raw_scale]


# --------------------------------------------------------------------------- built-ins


@pytest.mark.parametrize("name", sorted(BUILTIN_DATASETS))
def test_builtin_shapes_and_types(name):
    info = BUILTIN_DATASETS[name]
    d = load_dataset(name)
    assert d.name == name
    assert d.description == info.description and d.description.endswith(".")
    assert d.source == info.source
    assert d.n_train + d.n_test == info.n_samples
    assert d.n_features == info.n_features == len(d.feature_names)
    assert d.n_classes == info.n_classes == len(d.class_names)
    assert d.is_2d == (info.n_features == 2)
    assert d.x_train.dtype == np.float64 and d.x_test.dtype == np.float64
    assert d.y_train.dtype == np.int64 and d.y_test.dtype == np.int64
    assert d.x_train.shape == (d.n_train, d.n_features)
    assert d.x_test.shape == (d.n_test, d.n_features)
    assert set(np.unique(d.y_train)) == set(range(d.n_classes))
    assert set(np.unique(d.y_test)) == set(range(d.n_classes))
    assert d.n_test == pytest.approx(0.2 * info.n_samples, abs=d.n_classes)
    assert np.isfinite(d.x_train).all() and np.isfinite(d.x_test).all()


def test_digits_contents():
    d = load_dataset("digits")
    assert d.n_train + d.n_test == 1797
    assert d.n_features == 64 and d.n_classes == 10
    assert d.class_names == tuple("0123456789")
    counts = np.bincount(_all_y(d), minlength=10)
    assert counts.sum() == 1797
    assert counts.min() >= 174 and counts.max() <= 183
    assert list(counts) == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    mean, scale = d.raw_scale
    raw = d.x_train * scale + mean
    np.testing.assert_allclose(raw, np.round(raw), atol=1e-9)  # integer pixels
    assert raw.min() >= -1e-9 and raw.max() <= 16 + 1e-9
    assert "CC BY 4.0" in d.source and "UCI" in d.source


def test_digits_file_is_small_and_raw():
    path = Path(datasets.__file__).parent / "data" / "digits.npz"
    assert path.stat().st_size < 100_000
    with np.load(path, allow_pickle=False) as npz:
        assert npz["images"].dtype == np.uint8 and npz["images"].shape == (1797, 64)
        assert npz["labels"].dtype == np.uint8 and npz["labels"].shape == (1797,)
        assert npz["images"].max() == 16


@pytest.mark.parametrize("name", sorted(BUILTIN_DATASETS))
def test_standardised_with_training_statistics(name):
    d = load_dataset(name)
    mean, scale = d.raw_scale
    assert mean.shape == scale.shape == (d.n_features,)
    assert np.all(scale > 0)
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0.0, atol=1e-10)
    std = d.x_train.std(axis=0)
    constant = std < 1e-12
    np.testing.assert_allclose(std[~constant], 1.0, rtol=1e-10)
    # Constant training features are exactly zero, not NaN from 0/0.
    assert np.all(d.x_train[:, constant] == 0.0)
    if name == "digits":
        assert constant.any()  # some corner pixels are always blank


@pytest.mark.parametrize("name", sorted(BUILTIN_DATASETS))
def test_split_is_stratified(name):
    d = load_dataset(name)
    whole = np.bincount(_all_y(d), minlength=d.n_classes) / (d.n_train + d.n_test)
    test = np.bincount(d.y_test, minlength=d.n_classes) / d.n_test
    np.testing.assert_allclose(test, whole, atol=0.01)


@pytest.mark.parametrize("name", sorted(BUILTIN_DATASETS))
def test_deterministic_byte_identical(name):
    first = load_dataset(name)
    datasets.clear_cache()
    second = load_dataset(name)
    assert first is not second
    for a, b in zip(_arrays(first), _arrays(second)):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


def test_cache_returns_same_object_and_arrays_are_read_only():
    a = load_dataset("moons")
    assert load_dataset("moons") is a
    assert load_dataset("moons", n_samples=600, noise=0.1) is a  # defaults spelled out
    for arr in _arrays(a):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 0


def test_different_generated_sets_differ():
    sets = [load_dataset(n) for n in GENERATED]
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            assert not np.array_equal(sets[i].x_train, sets[j].x_train)
    base = load_dataset("circles")
    noisier = load_dataset("circles", noise=0.1)
    bigger = load_dataset("circles", n_samples=1000)
    assert not np.array_equal(base.x_train, noisier.x_train)
    assert bigger.n_train + bigger.n_test == 1000
    assert "noise=0.1" in noisier.source


def test_split_does_not_depend_on_global_seed():
    datasets.clear_cache()
    np.random.seed(123)
    a = load_dataset("spirals")
    datasets.clear_cache()
    np.random.seed(456)
    np.random.default_rng(7).random(10)
    b = load_dataset("spirals")
    assert a.x_test.tobytes() == b.x_test.tobytes()


def test_test_fraction():
    d = load_dataset("circles", test_fraction=0.5)
    assert d.n_test == 300
    for bad in (0, 1, 1.5, -0.1, float("nan"), "0.2", True):
        with pytest.raises(InitReportError, match="test fraction"):
            load_dataset("circles", test_fraction=bad)


def _linear_and_1nn_accuracy(d: Dataset) -> tuple[float, float]:
    design = np.column_stack([d.x_train, np.ones(d.n_train)])
    targets = np.eye(d.n_classes)[d.y_train]
    w, *_ = np.linalg.lstsq(design, targets, rcond=None)
    pred_lin = np.argmax(np.column_stack([d.x_test, np.ones(d.n_test)]) @ w, axis=1)
    dist = ((d.x_test[:, None, :] - d.x_train[None, :, :]) ** 2).sum(axis=-1)
    pred_nn = d.y_train[dist.argmin(axis=1)]
    return float((pred_lin == d.y_test).mean()), float((pred_nn == d.y_test).mean())


@pytest.mark.parametrize("name", GENERATED)
def test_2d_sets_are_non_linear(name):
    d = load_dataset(name)
    linear, nearest = _linear_and_1nn_accuracy(d)
    assert nearest >= 0.95
    margin = {"circles": 0.3, "spirals": 0.2, "moons": 0.05}[name]
    assert linear < nearest - margin


def test_unknown_name_lists_choices_and_mentions_csv():
    with pytest.raises(InitReportError) as info:
        load_dataset("mnist")
    msg = str(info.value)
    assert "'mnist'" in msg and ".csv" in msg
    for name in BUILTIN_DATASETS:
        assert name in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"n_samples": 5}, "n_samples"),
        ({"n_samples": 100.5}, "n_samples"),
        ({"noise": -1.0}, "noise"),
        ({"noise": float("inf")}, "noise"),
        ({"label_column": "y"}, "label_column"),
    ],
)
def test_bad_builtin_options(kwargs, word):
    with pytest.raises(InitReportError, match=word):
        load_dataset("moons", **kwargs)


def test_digits_rejects_generator_options():
    with pytest.raises(InitReportError, match="digits"):
        load_dataset("digits", n_samples=100)


# --------------------------------------------------------------------------- CSV


def _write(tmp_path: Path, text: str, name: str = "table.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _valid_csv_text() -> str:
    lines = ["height,species,weight"]
    rows = [
        (1.0, "setosa", 10), (1.2, "setosa", 11), (0.9, "setosa", 12), (1.1, "setosa", 9),
        (3.0, "virginica", 30), (3.3, "virginica", 31), (2.9, "virginica", 33),
        (3.1, "virginica", 29), (2.0, "versicolor", 20), (2.2, "versicolor", 21),
        (2.1, "versicolor", 19), (1.9, "versicolor", 22),
    ]
    lines += [f"{h},{s},{w}" for h, s, w in rows]
    return "\n".join(lines) + "\n"


def test_csv_round_trip_with_named_label_column(tmp_path):
    path = _write(tmp_path, _valid_csv_text(), "plants.csv")
    d = load_dataset(str(path), label_column="species")
    assert d.name == "plants"
    assert d.source == str(path)
    assert d.feature_names == ("height", "weight")
    assert d.class_names == ("setosa", "versicolor", "virginica")
    assert d.n_classes == 3 and d.n_features == 2 and d.is_2d
    assert d.n_train + d.n_test == 12
    assert np.bincount(_all_y(d)).tolist() == [4, 4, 4]
    assert set(d.y_test.tolist()) == {0, 1, 2}
    mean, scale = d.raw_scale
    raw = np.concatenate([d.x_train, d.x_test]) * scale + mean
    raw_sorted = sorted(map(tuple, np.round(raw, 9).tolist()))
    expected = sorted(
        (float(h), float(w))
        for h, _, w in (line.split(",") for line in _valid_csv_text().splitlines()[1:])
    )
    assert raw_sorted == expected
    # The label travels with its row: setosa rows have small heights.
    heights = (np.concatenate([d.x_train, d.x_test]) * scale + mean)[:, 0]
    labels = _all_y(d)
    assert heights[labels == 0].max() < 1.5
    for arr in _arrays(d):
        assert not arr.flags.writeable


def test_csv_default_label_is_last_column_and_integer_labels_sort_numerically(tmp_path):
    rows = ["a,b,label"] + [f"{i},{i * 2},{lab}" for i, lab in enumerate([10, 2, 10, 2, -1, -1])]
    path = _write(tmp_path, "\n".join(rows) + "\n")
    d = load_csv(path)
    assert d.feature_names == ("a", "b")
    assert d.class_names == ("-1", "2", "10")
    assert d.n_classes == 3


def test_csv_is_deterministic_and_tolerates_blank_lines_bom_crlf(tmp_path):
    text = _valid_csv_text()
    a = load_csv(_write(tmp_path, text, "a.csv"), label_column="species")
    messy = "\ufeff" + text.replace("\n", "\r\n").replace("\r\n2.0", "\r\n\r\n2.0") + "\r\n\r\n"
    b = load_csv(_write(tmp_path, messy, "b.csv"), label_column="species")
    for x, y in zip(_arrays(a), _arrays(b)):
        assert x.tobytes() == y.tobytes()


def test_csv_constant_feature_is_zero_not_nan(tmp_path):
    rows = ["c,v,y"] + [f"0.1,{i},{i % 2}" for i in range(10)]
    d = load_csv(_write(tmp_path, "\n".join(rows)))
    assert np.all(d.x_train[:, 0] == 0.0) and np.all(d.x_test[:, 0] == 0.0)
    assert np.isfinite(d.x_train).all()


def test_csv_huge_values_give_initreport_error(tmp_path):
    rows = ["a,y"] + [f"{s}1e308,{i % 2}" for i, s in enumerate("+-+-+-+-")]
    with pytest.raises(InitReportError, match="too large"):
        load_csv(_write(tmp_path, "\n".join(rows)))


@pytest.mark.parametrize(
    "text, words",
    [
        ("", ["empty"]),
        ("\n\n  \n", ["empty"]),
        ("a,b,y\n", ["no data rows"]),
        ("a,b,y\n\n\n", ["no data rows"]),
        ("onlyone\nx\ny\n", ["at least 2 columns"]),
        ("a;b;y\n1;2;0\n", ["at least 2 columns", "comma"]),
        ("1,2,0\n3,4,1\n", ["header"]),
        ("a,,y\n1,2,0\n", ["no name", "column 2"]),
        ("a,a,y\n1,2,0\n", ["twice", "'a'"]),
        ("a,b,y\n1,2,0\n3,4\n5,6,1\n", ["line 3", "2 fields"]),
        ("a,b,y\n1,2,0\n3,4,1,9\n", ["line 3", "4 fields"]),
        ("a,b,y\n1,2,0\n3,abc,1\n", ["line 3", "column 2", "'b'", "non-numeric", "abc"]),
        ("a,b,y\n1,2,0\n\n3,4,1\nnan,4,1\n", ["line 5", "column 1", "'a'", "not finite"]),
        ("a,b,y\n1,2,0\ninf,4,1\n", ["line 3", "column 1", "not finite"]),
        ("a,b,y\n1,2,0\n1,-Infinity,1\n", ["line 3", "column 2", "not finite"]),
        ("a,b,y\n1,2,0\n3, ,1\n", ["line 3", "column 2", "empty feature"]),
        ("a,b,y\n1,2,0\n3,4,\n", ["line 3", "column 3", "empty label"]),
        ("a,b,y\n1,2,0\n3,4,0\n5,6,0\n", ["one class"]),
        ("a,b,y\n1,2,0\n3,4,0\n5,6,1\n", ["class '1'", "at least 2 rows"]),
        ('a,b,y\n1,2,0\n3,"4,1\n', ["line 3", "not valid CSV"]),
        ('a,b,y\n1,2,0\n3,"4"x,1\n', ["line 3", "not valid CSV"]),
        ("a,b,y\n1,\x002,0\n3,4,1\n", ["line 2", "column 2", "non-numeric"]),
    ],
)
def test_csv_bad_files(tmp_path, text, words):
    path = _write(tmp_path, text)
    with pytest.raises(InitReportError) as info:
        load_csv(path)
    msg = str(info.value)
    assert "\n" not in msg
    for word in words:
        assert word in msg, msg


def test_csv_missing_label_column_lists_columns(tmp_path):
    path = _write(tmp_path, "alpha,beta,gamma\n1,2,0\n3,4,1\n")
    with pytest.raises(InitReportError) as info:
        load_csv(path, label_column="species")
    msg = str(info.value)
    assert "'species'" in msg and "not found" in msg and "alpha, beta, gamma" in msg


def test_csv_missing_not_a_file_unreadable(tmp_path):
    with pytest.raises(InitReportError, match="not found"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(InitReportError, match="not found"):
        load_dataset(str(tmp_path / "nope.csv"))
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    with pytest.raises(InitReportError, match="not a file"):
        load_csv(folder)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"a,b,y\n\xff\xfe\xfa,1,0\n")
    with pytest.raises(InitReportError, match="UTF-8"):
        load_csv(binary)
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        locked = _write(tmp_path, _valid_csv_text(), "locked.csv")
        locked.chmod(0)
        try:
            with pytest.raises(InitReportError, match="cannot read"):
                load_csv(locked)
        finally:
            locked.chmod(0o644)


def test_csv_rejects_generator_options(tmp_path):
    path = _write(tmp_path, _valid_csv_text())
    with pytest.raises(InitReportError, match="n_samples"):
        load_dataset(str(path), n_samples=100)


# --------------------------------------------------------------------------- properties

_label_kinds = st.sampled_from(["int", "str"])
_values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def tables(draw):
    n_features = draw(st.integers(1, 4))
    n_classes = draw(st.integers(2, 4))
    kind = draw(_label_kinds)
    if kind == "int":
        labels = draw(st.lists(st.integers(-50, 50), min_size=n_classes, max_size=n_classes,
                               unique=True))
        labels = [str(v) for v in labels]
    else:
        labels = draw(st.lists(st.text("abcxyz_ ", min_size=1, max_size=5).map(str.strip)
                               .filter(lambda s: s and not _numeric(s)),
                               min_size=n_classes, max_size=n_classes, unique=True))
    per_class = draw(st.lists(st.integers(2, 6), min_size=n_classes, max_size=n_classes))
    rows = []
    for label, count in zip(labels, per_class):
        for _ in range(count):
            feats = draw(st.lists(_values, min_size=n_features, max_size=n_features))
            rows.append([repr(v) for v in feats] + [label])
    rows = draw(st.permutations(rows))
    header = [f"f{i}" for i in range(n_features)] + ["label"]
    return header, [list(r) for r in rows], labels, per_class


def _numeric(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _write_rows(directory: str, header, rows) -> Path:
    path = Path(directory) / "t.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@FAST
@given(tables())
def test_property_valid_tables_load(table):
    header, rows, labels, per_class = table
    with tempfile.TemporaryDirectory() as tmp:
        d = load_csv(_write_rows(tmp, header, rows))
    assert d.n_train + d.n_test == len(rows)
    assert d.n_features == len(header) - 1
    assert d.n_classes == len(labels)
    assert d.feature_names == tuple(header[:-1])
    key = (lambda s: int(s)) if _numeric(labels[0]) else (lambda s: s)
    assert d.class_names == tuple(sorted(labels, key=key))
    counts = dict(zip(labels, per_class))
    assert np.bincount(_all_y(d), minlength=d.n_classes).tolist() == [
        counts[c] for c in d.class_names
    ]
    assert set(d.y_test.tolist()) == set(range(d.n_classes))
    assert np.isfinite(d.x_train).all() and np.isfinite(d.x_test).all()


_bad_tokens = st.one_of(
    st.sampled_from(["abc", "1.2.3", "--", "x1", "1e", "0x10", "one", "NaN", "nan", "inf",
                     "-inf", "Infinity", "", "   ", "1,5"]),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6).filter(
        lambda s: not _numeric(s)
    ),
)


@FAST
@given(tables(), st.data())
def test_property_corrupted_tables_raise_initreport_error(table, data):
    header, rows, _, _ = table
    r = data.draw(st.integers(0, len(rows) - 1), label="row")
    how = data.draw(st.sampled_from(["token", "drop", "extra"]), label="how")
    if how == "token":
        c = data.draw(st.integers(0, len(header) - 2), label="feature column")
        rows[r][c] = data.draw(_bad_tokens, label="token")
    elif how == "drop":
        c = data.draw(st.integers(0, len(header) - 1), label="dropped column")
        del rows[r][c]
    else:
        rows[r].append("0")
    with tempfile.TemporaryDirectory() as tmp:
        path = _write_rows(tmp, header, rows)
        with pytest.raises(InitReportError) as info:
            load_csv(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert f"line {r + 2}" in msg, msg
