"""Reading a user's CSV file into a feature matrix and integer labels, with one-line errors.

:func:`initreport.datasets.load_csv` is the entry point (it adds the split and standardisation);
this module only reads and checks the table: the rows, the header, the label column, the
numeric features and the classes, each step naming the file, line and column on a problem.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from initreport.errors import InitReportError


class CsvTable(NamedTuple):
    x: np.ndarray                    # (n_rows, n_features) float64
    y: np.ndarray                    # (n_rows,) int64 in 0..K-1
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]     # label text of class k, in sorted (numeric if integers) order
    label_name: str
    label_kind: str                  # "integer" or "string"
    n_rows: int


def _is_blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank row, with readable errors."""
    rows: list[tuple[int, list[str]]] = []
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            start = 1  # the line a record starts on (a quoted field may span lines)
            try:
                for row in reader:
                    if not _is_blank(row):
                        rows.append((start, row))
                    start = reader.line_num + 1
            except csv.Error as exc:
                raise InitReportError(
                    f"CSV file {path}: line {start}: not valid CSV ({exc})"
                ) from None
    except UnicodeDecodeError:
        raise InitReportError(f"CSV file {path} is not UTF-8 text") from None
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise InitReportError(f"cannot read CSV file {path}: {reason}") from None
    return rows


def _check_header(path: Path, header_line: int, raw: list[str]) -> list[str]:
    """The stripped column names; at least two, each named once, not a data row."""
    header = [h.strip() for h in raw]
    if len(header) < 2:
        raise InitReportError(
            f"CSV file {path} needs at least 2 columns (features and a label) but the header "
            f"on line {header_line} has {len(header)}; is it comma-separated?"
        )
    for i, h in enumerate(header, start=1):
        if not h:
            raise InitReportError(
                f"CSV file {path}: header on line {header_line}: column {i} has no name"
            )
    if all(_looks_numeric(h) for h in header):
        raise InitReportError(
            f"CSV file {path}: line {header_line} looks like data, but a header row naming "
            "the columns is required"
        )
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise InitReportError(f"CSV file {path}: header names column {h!r} twice")
        seen.add(h)
    return header


def _label_index(path: Path, header: list[str], label_column: str | None) -> int:
    """The label column's index: the named one, or the last."""
    if label_column is None:
        return len(header) - 1
    if label_column.strip() not in header:
        raise InitReportError(
            f"label column {label_column!r} not found in {path}; columns are: "
            + ", ".join(header)
        )
    return header.index(label_column.strip())


def _feature(path: Path, line: int, i: int, name: str, raw: str) -> float:
    where = f"CSV file {path}: line {line}, column {i + 1} ({name!r})"
    if not raw:
        raise InitReportError(f"{where}: empty feature value")
    try:
        value = float(raw)
    except ValueError:
        raise InitReportError(f"{where}: non-numeric value {raw!r}") from None
    if not math.isfinite(value):
        raise InitReportError(f"{where}: value {raw!r} is not finite (NaN/Inf)")
    return value


def _parse_rows(path: Path, header: list[str], label_idx: int,
                data: list[tuple[int, list[str]]]) -> tuple[np.ndarray, list[str]]:
    """The feature matrix and the label texts of the data rows."""
    feature_idx = [i for i in range(len(header)) if i != label_idx]
    x = np.empty((len(data), len(feature_idx)), dtype=np.float64)
    labels: list[str] = []
    for r, (line, row) in enumerate(data):
        if len(row) != len(header):
            raise InitReportError(
                f"CSV file {path}: line {line} has {len(row)} fields but the header has "
                f"{len(header)}"
            )
        for j, i in enumerate(feature_idx):
            x[r, j] = _feature(path, line, i, header[i], row[i].strip())
        label = row[label_idx].strip()
        if not label:
            raise InitReportError(
                f"CSV file {path}: line {line}, column {label_idx + 1} ({header[label_idx]!r}): "
                "empty label"
            )
        labels.append(label)
    return x, labels


def _encode_labels(path: Path, label_name: str, labels: list[str],
                   min_per_class: int) -> tuple[np.ndarray, tuple[str, ...], str]:
    """(y in 0..K-1, class names, "integer" or "string"): classes in sorted (numeric) order."""
    try:
        keys = [int(s) for s in labels]
        numeric = True
    except ValueError:
        keys, numeric = labels, False
    classes = sorted(set(keys))
    if len(classes) < 2:
        raise InitReportError(
            f"CSV file {path}: label column {label_name!r} has only one class "
            f"({classes[0]!r}); at least 2 classes are needed"
        )
    index = {c: k for k, c in enumerate(classes)}
    y = np.array([index[k] for k in keys], dtype=np.int64)
    counts = np.bincount(y, minlength=len(classes))
    for c, count in zip(classes, counts):
        if count < min_per_class:
            raise InitReportError(
                f"CSV file {path}: class {str(c)!r} has {count} row; each class needs at "
                f"least {min_per_class} rows so it appears in both the train and test split"
            )
    return y, tuple(str(c) for c in classes), "integer" if numeric else "string"


def read_table(path: Path, label_column: str | None, min_per_class: int) -> CsvTable:
    """Read and check ``path``: header row, numeric features, a label column with 2+ classes."""
    if not path.exists():
        raise InitReportError(f"CSV file not found: {path}")
    if not path.is_file():
        raise InitReportError(f"CSV path is not a file: {path}")
    rows = _read_rows(path)
    if not rows:
        raise InitReportError(f"CSV file {path} is empty")
    header = _check_header(path, *rows[0])
    label_idx = _label_index(path, header, label_column)
    data = rows[1:]
    if not data:
        raise InitReportError(f"CSV file {path} has a header row but no data rows")
    x, labels = _parse_rows(path, header, label_idx, data)
    y, class_names, kind = _encode_labels(path, header[label_idx], labels, min_per_class)
    features = tuple(h for i, h in enumerate(header) if i != label_idx)
    return CsvTable(x, y, features, class_names, header[label_idx], kind, len(data))
