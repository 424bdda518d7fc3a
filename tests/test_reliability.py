"""Reliability: bad input gives one clean line and changes nothing; kills, Ctrl-C and reruns are safe.

* Bad inputs through the CLI (CliRunner, and a real subprocess for a few): exit code, a single
  ``Error: …`` line naming the offending value or key, no traceback, and not one file changed.
* A build killed with SIGKILL part-way, with a cache entry then corrupted on purpose, rebuilds to
  results byte-identical to an uninterrupted build; that rebuild is also the ``--jobs 1`` side of
  the determinism check against the session's ``--jobs 2`` quick build.
* Divergence is reported, not crashed on; Ctrl-C exits 130 and keeps the previous site;
  user text is escaped; a build deletes only what it generated.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import copy_project
from initreport.cli import main

CACHE = ".initreport-cache"
PYTHON_CLI = [sys.executable, "-m", "initreport.cli"]
# Click's own lines around a usage error (exit 2), and the build's progress line.
USAGE_LINE = re.compile(r"^(Usage: |Try '.*--help' for help\.)")
PROGRESS_LINE = re.compile(r"^Running \d+ runs\b")


# --------------------------------------------------------------------------------------- helpers


def snapshot(root: Path) -> dict:
    """Every path under root: directories by name, files by (size, sha256, mtime_ns)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        for name in dirnames:
            out[str((d / name).relative_to(root)) + "/"] = "dir"
        for name in filenames:
            p = d / name
            st = p.lstat()
            data = p.read_bytes() if p.is_file() else b""
            out[str(p.relative_to(root))] = (st.st_size, hashlib.sha256(data).hexdigest(), st.st_mtime_ns)
    return out


def diff(before: dict, after: dict) -> list[str]:
    changes = [f"removed {k}" for k in before.keys() - after.keys()]
    changes += [f"added {k}" for k in after.keys() - before.keys()]
    changes += [f"changed {k}" for k in before.keys() & after.keys() if before[k] != after[k]]
    return sorted(changes)


def error_line(text: str, exit_code: int) -> str:
    """The one line of output a failure may print (progress and Click usage lines aside)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not PROGRESS_LINE.match(ln)]
    if exit_code == 2:
        lines = [ln for ln in lines if not USAGE_LINE.match(ln)]
    assert len(lines) == 1, f"expected one error line, got {lines!r}"
    assert lines[0].startswith("Error: "), lines[0]
    return lines[0]


def result_files(project: Path) -> dict[str, bytes]:
    root = project / CACHE / "results"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.json"))}


def warm_copy(quick_project, dest: Path) -> Path:
    """A copy of the session's quick-built project: cache, docs and site included."""
    project, _ = quick_project
    shutil.copytree(project, dest, symlinks=True)
    return dest


# --------------------------------------------------------------------------------------- 1. bad input

CSV_ROWS = ["a,b,label"] + [f"{i % 7},{(i * 3) % 5},{'yes' if i % 2 else 'no'}" for i in range(20)]


def _csv(name, lines):
    def setup(p: Path):
        (p / name).write_text("\n".join(lines) + "\n")
    return setup


def _toml(text):
    def setup(p: Path):
        (p / "initreport.toml").write_text(text)
    return setup


def _bytes_toml(data: bytes):
    def setup(p: Path):
        (p / "initreport.toml").write_bytes(data)
    return setup


def _remove_template(p: Path):
    (p / "templates" / "claims.md.j2").unlink()


def _break_template(p: Path):
    t = p / "templates" / "index.md.j2"
    t.write_text(t.read_text() + "\n{% if %}\n")


def _foreign_site_dir(p: Path):
    (p / "mysite").mkdir()
    (p / "mysite" / "notes.txt").write_text("my own files, not a site\n")


def _no_site_git(p: Path):
    shutil.rmtree(p / "site")
    subprocess.run(["git", "init", "-q", str(p)], check=True)


def _mkdir(name):
    def setup(p: Path):
        (p / name).mkdir()
    return setup


def _file(name):
    def setup(p: Path):
        (p / name).write_text("a regular file\n")
    return setup


def _all(*setups):
    def setup(p: Path):
        for s in setups:
            s(p)
    return setup


# Small, fast settings for `run` cases that only fail after training.
FAST = ["--dataset", "circles", "--epochs", "1", "--seeds", "1", "--width", "4", "--depth", "1"]
# (id, argv, words the Error line must contain, exit code, setup, marks)
BAD = [
    # run: names
    ("run-init-unknown", ["run", "--init", "kaiming"], ["'kaiming'"], 1, None),
    ("run-activation-unknown", ["run", "--activation", "swish"], ["'swish'"], 1, None),
    ("run-dataset-unknown", ["run", "--dataset", "mnist"], ["'mnist'"], 1, None),
    ("run-dtype-unknown", ["run", "--dtype", "float16"], ["--dtype", "float16"], 2, None),
    # run: sizes, epochs, seeds
    ("run-depth-0", ["run", "--depth", "0"], ["--depth", "0"], 2, None),
    ("run-width-negative", ["run", "--width", "-3"], ["--width", "-3"], 2, None),
    ("run-batch-size-0", ["run", "--batch-size", "0"], ["--batch-size", "0"], 2, None),
    ("run-epochs-negative", ["run", "--epochs", "-1"], ["--epochs", "-1"], 2, None),
    ("run-seeds-0", ["run", "--seeds", "0"], ["--seeds", "0"], 2, None),
    ("run-seeds-negative", ["run", "--seeds", "-2"], ["--seeds", "-2"], 2, None),
    ("run-jobs-0", ["run", "--jobs", "0"], ["--jobs", "0"], 2, None),
    # run: learning rate and momentum
    ("run-lr-0", ["run", "--lr", "0"], ["--lr", "0"], 2, None),
    ("run-lr-negative", ["run", "--lr", "-0.1"], ["--lr", "-0.1"], 2, None),
    ("run-lr-nan", ["run", "--lr", "nan"], ["--lr", "nan"], 2, None),
    ("run-lr-inf", ["run", "--lr", "inf"], ["--lr", "inf"], 2, None),
    ("run-lr-minus-inf", ["run", "--lr", "-inf"], ["--lr", "-inf"], 2, None),
    ("run-lr-text", ["run", "--lr", "abc"], ["--lr", "'abc'"], 2, None),
    ("run-momentum-1", ["run", "--momentum", "1"], ["--momentum", "1"], 2, None),
    ("run-momentum-negative", ["run", "--momentum", "-0.1"], ["--momentum", "-0.1"], 2, None),
    ("run-momentum-1.5", ["run", "--momentum", "1.5"], ["--momentum", "1.5"], 2, None),
    ("run-gain-for-zeros", ["run", "--init", "zeros", "--gain", "2"], ["gain", "zeros"], 1, None),
    ("run-constant-value-nan", ["run", "--init", "constant", "--value", "nan"], ["value", "nan"], 1, None),
    ("run-label-column-builtin", ["run", "--dataset", "circles", "--label-column", "x"], ["label_column", "circles"],
     1, None),
    # run: CSV files
    ("csv-missing", ["run", "--dataset", "missing.csv"], ["missing.csv"], 1, None),
    ("csv-empty", ["run", "--dataset", "empty.csv"], ["empty.csv", "empty"], 1, _csv("empty.csv", [])),
    ("csv-header-only", ["run", "--dataset", "head.csv"], ["head.csv", "no data rows"], 1,
     _csv("head.csv", ["a,b,label"])),
    ("csv-no-label-column", ["run", "--dataset", "d.csv", "--label-column", "nope"], ["'nope'", "d.csv"], 1,
     _csv("d.csv", CSV_ROWS)),
    ("csv-non-numeric", ["run", "--dataset", "d.csv"], ["'abc'", "line 4"], 1,
     _csv("d.csv", CSV_ROWS[:3] + ["1,abc,no"] + CSV_ROWS[3:])),
    ("csv-nan-feature", ["run", "--dataset", "d.csv"], ["'nan'", "line 3"], 1,
     _csv("d.csv", CSV_ROWS[:2] + ["nan,1,no"] + CSV_ROWS[2:])),
    ("csv-inf-feature", ["run", "--dataset", "d.csv"], ["'inf'", "line 3"], 1,
     _csv("d.csv", CSV_ROWS[:2] + ["1,inf,no"] + CSV_ROWS[2:])),
    ("csv-single-class", ["run", "--dataset", "d.csv"], ["one class", "'same'"], 1,
     _csv("d.csv", ["a,b,label"] + [f"{i},{i * 2},same" for i in range(20)])),
    ("csv-ragged", ["run", "--dataset", "d.csv"], ["line 6", "2 fields"], 1,
     _csv("d.csv", CSV_ROWS[:5] + ["1,2"] + CSV_ROWS[5:])),
    ("csv-directory", ["run", "--dataset", "adir.csv"], ["adir.csv", "not a file"], 1, _mkdir("adir.csv")),
    # run: --output
    pytest.param("output-under-a-file", ["run", *FAST, "--output", "somefile/out.json"], ["somefile/out.json"], 1,
                 _file("somefile"),
                 id="output-under-a-file"),
    pytest.param("output-missing-dir", ["run", *FAST, "--output", "newdir/out.json"], ["newdir"], 1, None, id="output-missing-dir"),
    ("output-is-a-directory", ["run", "--output", "adir"], ["--output", "adir"], 2, _mkdir("adir")),
    # build: options
    ("build-profile-unknown", ["build", "--profile", "huge"], ["'huge'"], 1, None),
    ("build-jobs-0", ["build", "--jobs", "0"], ["--jobs", "0"], 2, None),
    ("build-quick-and-profile", ["build", "--quick", "--profile", "default"], ["--quick", "--profile"], 2, None),
    ("list-profile-unknown", ["list", "--profile", "huge"], ["'huge'"], 1, None),
    # build: initreport.toml
    ("toml-syntax", ["build", "--quick"], ["initreport.toml", "line 1"], 1, _toml("x = \n")),
    ("toml-not-utf8", ["build", "--quick"], ["initreport.toml"], 1, _bytes_toml(b"[build]\njobs = \xff\n")),
    ("toml-unknown-section", ["build", "--quick"], ["[foo]"], 1, _toml("[foo]\nx = 1\n")),
    ("toml-unknown-build-key", ["build", "--quick"], ["build.colour"], 1, _toml("[build]\ncolour = 1\n")),
    ("toml-unknown-profile-key", ["build", "--quick"], ["profile.quick.bogus"], 1,
     _toml("[profile.quick]\nbogus = 1\n")),
    ("toml-epochs-string", ["build", "--quick"], ["profile.quick.epochs", "'10'"], 1,
     _toml('[profile.quick]\nepochs = "10"\n')),
    ("toml-epochs-bool", ["build", "--quick"], ["profile.quick.epochs", "True"], 1,
     _toml("[profile.quick]\nepochs = true\n")),
    ("toml-epochs-0", ["build", "--quick"], ["profile.quick.epochs", "0"], 1, _toml("[profile.quick]\nepochs = 0\n")),
    ("toml-seeds-duplicate", ["build", "--quick"], ["profile.quick.seeds", "[1, 1]"], 1,
     _toml("[profile.quick]\nseeds = [1, 1]\n")),
    ("toml-seeds-empty", ["build", "--quick"], ["profile.quick.seeds", "[]"], 1, _toml("[profile.quick]\nseeds = []\n")),
    ("toml-seeds-negative", ["build", "--quick"], ["profile.quick.seeds", "-1"], 1,
     _toml("[profile.quick]\nseeds = [0, -1]\n")),
    ("toml-seeds-not-a-list", ["build", "--quick"], ["profile.quick.seeds", "3"], 1, _toml("[profile.quick]\nseeds = 3\n")),
    ("toml-depths-duplicate", ["build", "--quick"], ["profile.quick.depths", "[2, 2]"], 1,
     _toml("[profile.quick]\ndepths = [2, 2]\n")),
    ("toml-gains-nan", ["build", "--quick"], ["profile.quick.sweep_gains", "nan"], 1,
     _toml("[profile.quick]\nsweep_gains = [0.1, nan, 1.0]\n")),
    ("toml-gains-huge-int", ["build", "--quick"], ["profile.quick.sweep_gains"], 1,
     _toml("[profile.quick]\nsweep_gains = [1, 2, 1" + "0" * 400 + "]\n")),
    ("toml-base-unknown", ["build", "--quick"], ["profile.lecture.base", "'nope'"], 1,
     _toml('[profile.lecture]\nbase = "nope"\n')),
    ("toml-base-list", ["build", "--quick"], ["profile.lecture.base", "['quick']"], 1,
     _toml('[profile.lecture]\nbase = ["quick"]\n')),
    ("toml-profile-name", ["build", "--quick"], ["'a b'"], 1, _toml('[profile."a b"]\nepochs = 1\n')),
    ("toml-build-profile-unknown", ["build"], ["build.profile", "'huge'"], 1, _toml('[build]\nprofile = "huge"\n')),
    ("toml-build-profile-list", ["build"], ["build.profile", "['quick']"], 1, _toml('[build]\nprofile = ["quick"]\n')),
    ("toml-build-jobs-0", ["build", "--quick"], ["build.jobs", "0"], 1, _toml("[build]\njobs = 0\n")),
    ("toml-build-jobs-float", ["build", "--quick"], ["build.jobs", "2.5"], 1, _toml("[build]\njobs = 2.5\n")),
    # build: templates (the project is warm, so nothing reruns before the pages)
    ("template-missing", ["build", "--quick", "--jobs", "1"], ["claims.md.j2", "missing"], 1, _remove_template),
    ("template-syntax-error", ["build", "--quick", "--jobs", "1"], ["index.md.j2", "line"], 1, _break_template),
    # build: where
    ("build-outside-project", ["build", "--quick", "--project-dir", "elsewhere"], ["elsewhere", "not an initreport project"],
     1, _mkdir("elsewhere")),
    pytest.param("build-site-dir-foreign", ["build", "--quick", "--jobs", "1", "--site-dir", "mysite"],
                 ["mysite", "refusing"], 1, _foreign_site_dir, id="build-site-dir-foreign"),
    ("publish-no-site", ["publish"], ["site", "does not exist"], 1, _no_site_git),
]


def _case_id(case):
    return case.id if hasattr(case, "marks") else case[0]      # a pytest.param, or a plain tuple


@pytest.mark.parametrize("name,argv,words,code,setup", BAD, ids=[_case_id(c) for c in BAD])
def test_bad_input_is_one_line_and_changes_nothing(quick_project, tmp_path, monkeypatch, name, argv, words, code,
                                                   setup):
    project = warm_copy(quick_project, tmp_path / "p")
    if setup:
        setup(project)
    monkeypatch.chdir(project)
    before = snapshot(project)
    res = CliRunner().invoke(main, argv, catch_exceptions=True)
    assert "Traceback" not in res.output
    assert res.exit_code == code, res.output
    assert isinstance(res.exception, SystemExit), repr(res.exception)
    line = error_line(res.stderr, code)
    assert [ln for ln in res.stdout.splitlines() if ln.strip()] == [], "bad input must be refused before any work"
    for w in words:
        assert w in line, (w, line)
    assert diff(before, snapshot(project)) == []


def test_bad_input_case_count():
    assert len(BAD) >= 30
    assert len({_case_id(c) for c in BAD}) == len(BAD)


@pytest.mark.parametrize("argv,words,setup", [
    (["run", "--lr", "nan"], ["--lr", "nan"], None),
    (["run", "--dataset", "d.csv"], ["line 6", "2 fields"], _csv("d.csv", CSV_ROWS[:5] + ["1,2"] + CSV_ROWS[5:])),
    (["build", "--quick"], ["profile.lecture.base"], _all(copy_project, _toml('[profile.lecture]\nbase = ["quick"]\n'))),
    (["build", "--quick", "--project-dir", "elsewhere"], ["not an initreport project"], _mkdir("elsewhere")),
    (["publish"], ["does not exist"], _all(_mkdir("site-less"), lambda p: subprocess.run(
        ["git", "init", "-q", str(p / "site-less")], check=True))),
], ids=["lr-nan", "csv-ragged", "toml-base-list", "outside-project", "publish-no-site"])
def test_bad_input_in_a_real_process(tmp_path, argv, words, setup):
    """The installed entry point, as a user runs it: stderr holds one Error line and no traceback."""
    if setup:
        setup(tmp_path)
    cwd = tmp_path / "site-less" if argv == ["publish"] else tmp_path
    before = snapshot(tmp_path)
    proc = subprocess.run(PYTHON_CLI + argv, cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert "Traceback" not in proc.stderr
    assert proc.returncode == (2 if argv[:3] == ["run", "--lr", "nan"] else 1), proc.stderr
    line = error_line(proc.stderr, proc.returncode)
    assert all(w in line for w in words), line
    assert proc.stdout == ""
    assert diff(before, snapshot(tmp_path)) == []


@pytest.mark.slow
def test_foreign_site_dir_is_refused_and_left_untouched(quick_project, tmp_path):
    """The part of build-site-dir-foreign that holds today: the directory itself is never touched."""
    project = warm_copy(quick_project, tmp_path / "p")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine\n")
    (foreign / "sub").mkdir()
    (foreign / "sub" / "x.html").write_text("<p>mine</p>\n")
    before = snapshot(foreign)
    site_before = snapshot(project / "site")
    res = CliRunner().invoke(main, ["build", "--quick", "--jobs", "1", "--project-dir", str(project),
                                    "--site-dir", str(foreign)])
    assert res.exit_code == 1
    line = error_line(res.output, 1)
    assert "refusing to replace" in line and str(foreign) in line
    assert diff(before, snapshot(foreign)) == []
    assert diff(site_before, snapshot(project / "site")) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mine.")]   # no temporary build left


# --------------------------------------------------------------------------------------- 2+3. SIGKILL, determinism


def _count_results(project: Path) -> int:
    return len(glob.glob(str(project / CACHE / "results" / "**" / "*.json"), recursive=True))


def _temp_files(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if ".tmp" in p.name]


@pytest.fixture(scope="module")
def killed_and_rebuilt(quick_project, tmp_path_factory):
    """A --jobs 1 quick build SIGKILLed part-way, one finished entry truncated, then rebuilt with --jobs 1."""
    total = _count_results(quick_project[0])
    project = copy_project(tmp_path_factory.mktemp("killed") / "p")
    log = project.parent / "killed.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(PYTHON_CLI + ["build", "--quick", "--jobs", "1", "--project-dir", str(project)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while _count_results(project) < 10:
                assert proc.poll() is None, f"the build ended before it could be killed: {log.read_text()}"
                assert time.monotonic() < deadline, "no cache entries after 120 s"
                time.sleep(0.02)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    finished = sorted((project / CACHE / "results").rglob("*.json"))
    assert 10 <= len(finished) < total
    left_by_kill = _temp_files(project / CACHE)
    victim = finished[len(finished) // 2]
    raw = victim.read_bytes()
    victim.write_bytes(raw[: len(raw) // 2])                       # a torn write / disk fault
    rebuild = subprocess.run(PYTHON_CLI + ["build", "--quick", "--jobs", "1", "--project-dir", str(project)],
                             capture_output=True, text=True, timeout=300)
    return {"project": project, "killed_at": len(finished), "victim": victim, "rebuild": rebuild,
            "left_by_kill": left_by_kill}


@pytest.mark.slow
def test_sigkill_then_rebuild_matches_an_uninterrupted_build(killed_and_rebuilt, quick_project):
    k = killed_and_rebuilt
    project, rebuild = k["project"], k["rebuild"]
    assert rebuild.returncode == 0, rebuild.stderr
    assert "Traceback" not in rebuild.stderr
    assert ", 1 corrupt cache entries discarded" in rebuild.stdout, rebuild.stdout
    m = re.search(r"(\d+) runs, (\d+) run, (\d+) cached", rebuild.stdout)
    total, ran, cached = map(int, m.groups())
    assert cached == k["killed_at"] - 1 and ran == total - cached      # the truncated entry was rerun
    json.loads(k["victim"].read_text())                                # …and rewritten whole
    reference = result_files(quick_project[0])
    rebuilt = result_files(project)
    assert rebuilt.keys() == reference.keys()                          # same keys
    for name in reference:                                             # same canonical JSON, byte for byte
        assert rebuilt[name] == reference[name], name
    for name, data in rebuilt.items():
        entry = json.loads(data)
        assert entry["key"] == Path(name).stem
        assert hashlib.sha256(json.dumps(entry["result"], sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode()).hexdigest() == entry["checksum"]
    ref_verdicts = (quick_project[0] / "docs" / "data" / "verdicts.json").read_bytes()
    assert (project / "docs" / "data" / "verdicts.json").read_bytes() == ref_verdicts
    assert _temp_files(project / CACHE) == [], f"left by the kill: {k['left_by_kill']}"


@pytest.mark.slow
def test_jobs_1_and_jobs_2_builds_are_byte_identical(killed_and_rebuilt, quick_project):
    """--jobs 1 (every run and figure of the killed-and-rebuilt project) against the session's --jobs 2."""
    one = killed_and_rebuilt["project"]
    two = quick_project[0]
    assert killed_and_rebuilt["rebuild"].returncode == 0
    assert result_files(one) == result_files(two)
    figs_one = {p.name: p.read_bytes() for p in (one / "docs" / "figures").iterdir()}
    figs_two = {p.name: p.read_bytes() for p in (two / "docs" / "figures").iterdir()}
    assert figs_one.keys() == figs_two.keys() and len(figs_one) > 10
    assert [n for n in figs_one if figs_one[n] != figs_two[n]] == []
    assert (one / "docs/data/verdicts.json").read_bytes() == (two / "docs/data/verdicts.json").read_bytes()


# --------------------------------------------------------------------------------------- 4. divergence


def test_divergence_is_reported_not_crashed_on(tmp_path):
    proc = subprocess.run(PYTHON_CLI + ["run", "--init", "large_random", "--activation", "relu", "--lr", "5",
                                        "--depth", "4", "--epochs", "3", "--output", "out.json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "diverged" in proc.stdout
    assert "Warning" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ""
    text = (tmp_path / "out.json").read_text()
    assert not re.search(r"\bNaN\b|-?Infinity", text)
    data = json.loads(text)
    assert data["diverged"], "no diverged seeds recorded"
    seeds = data["config"]["seeds"]
    for d in data["diverged"]:
        assert d["seed"] in seeds and 1 <= d["epoch"] <= 3
    assert len({d["seed"] for d in data["diverged"]}) == len(data["diverged"])


# --------------------------------------------------------------------------------------- 5. Ctrl-C


@pytest.mark.slow
def test_ctrl_c_exits_130_and_keeps_the_previous_site(quick_project, tmp_path):
    project = copy_project(tmp_path / "p")
    shutil.copytree(quick_project[0] / "site", project / "site")
    (project / "site" / "MARKER").write_text("the previous site\n")
    site_before = snapshot(project / "site")
    # A terminal's Ctrl-C reaches the whole foreground process group, workers included.
    proc = subprocess.Popen(PYTHON_CLI + ["build", "--quick", "--jobs", "2", "--project-dir", str(project)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while _count_results(project) < 3:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    lines = [ln for ln in err.splitlines() if ln.strip() and not PROGRESS_LINE.match(ln)]
    assert len(lines) == 1 and lines[0].startswith("Interrupted"), lines
    assert diff(site_before, snapshot(project / "site")) == []
    assert [p.name for p in project.iterdir() if p.name.startswith(".site")] == []   # no half-built site
    assert 3 <= _count_results(project) < _count_results(quick_project[0])          # finished work kept


def test_ctrl_c_stops_a_threaded_run_at_once(tmp_path):
    """Ctrl-C while two threads train blocks of seeds: exit 130 within seconds, one line, no output file."""
    out = tmp_path / "r.json"
    proc = subprocess.Popen(PYTHON_CLI + ["run", "--depth", "6", "--width", "128", "--epochs", "500", "--seeds", "4",
                                          "--jobs", "2", "--output", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        time.sleep(4)                     # imports, data, initialisation: training is under way
        assert proc.poll() is None, proc.communicate()
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        waited = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Interrupted"), lines
    assert waited < 10, f"took {waited:.1f} s to stop"
    assert not out.exists() and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------- 6. escaping

XSS = "<script>alert(1)</script>"


def test_esc_and_cell_escape_user_text():
    from markupsafe import Markup

    from initreport.pages import cell, esc
    assert esc(XSS) == "&lt;script&gt;alert&#40;1&#41;&lt;/script&gt;"
    assert esc('"x" & \'y\'') == "&quot;x&quot; &amp; &#x27;y&#x27;"
    assert cell(f"{XSS}|b\nc") == "&lt;script&gt;alert&#40;1&#41;&lt;/script&gt;&#124;b c"
    assert esc("[a](javascript:x)") == "&#91;a&#93;&#40;javascript&#58;x&#41;"   # no Markdown link
    assert esc(Markup(esc(XSS))) == esc(XSS)          # escaped once, never twice


def test_csv_with_a_script_column_name_loads(tmp_path):
    from initreport.datasets import load_dataset
    rows = [f"a,{XSS}"] + [f"{i},{i % 2}" for i in range(20)]
    (tmp_path / "x.csv").write_text("\n".join(rows) + "\n")
    data = load_dataset(str(tmp_path / "x.csv"), label_column=XSS)
    assert data.n_features == 1
    rows = [f"{XSS},b,label"] + [f"{i},{i * 2},{i % 2}" for i in range(20)]
    (tmp_path / "y.csv").write_text("\n".join(rows) + "\n")
    res = CliRunner().invoke(main, ["run", "--dataset", str(tmp_path / "y.csv"), "--epochs", "1", "--seeds", "1",
                                    "--width", "4", "--output", str(tmp_path / "y.json")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "y.json").read_text())["config"]["dataset"] == str(tmp_path / "y.csv")


@pytest.mark.slow
def test_profile_description_is_escaped_on_the_reproducibility_page(quick_project, tmp_path):
    project = warm_copy(quick_project, tmp_path / "p")
    (project / "initreport.toml").write_text(
        '[profile.tiny]\nbase = "quick"\ndescription = "<img src=x onerror=alert(1)>"\n')
    res = CliRunner().invoke(main, ["build", "--profile", "tiny", "--jobs", "1", "--project-dir", str(project)])
    assert res.exit_code == 0, res.output
    assert " 0 run, " in res.output                                   # every result from the cache
    page = (project / "docs" / "reproducibility.md").read_text()
    shown = "&lt;img src=x onerror=alert&#40;1&#41;&gt;"              # inert: entities a browser shows as text
    assert shown in page
    assert "<img src=x" not in page
    html_page = (project / "site" / "reproducibility.html").read_text()
    assert "<img src=x" not in html_page and shown in html_page


# --------------------------------------------------------------------------------------- 8. safety


@pytest.mark.slow
def test_build_deletes_only_what_it_generated(quick_project, tmp_path):
    project = warm_copy(quick_project, tmp_path / "p")
    docs = project / "docs"
    own = {
        docs / "notes.md": b"# My notes\n\nNot in the nav, written by hand.\n",
        docs / "figures" / "mine.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
        project / "keep.txt": b"outside docs/\n",
    }
    for path, data in own.items():
        path.write_bytes(data)
    css = (docs / "assets" / "extra.css").read_bytes()
    # A page an earlier build generated and this one no longer does, and two manifest entries that
    # point outside docs/ (a hand-edited or merged manifest): only the first may be deleted.
    (docs / "old-page.md").write_text("# Old\n")
    manifest = docs / ".initreport-manifest.json"
    listed = json.loads(manifest.read_text())["files"]
    sha = hashlib.sha256(b"# Old\n").hexdigest()
    keep_sha = hashlib.sha256(own[project / "keep.txt"]).hexdigest()
    manifest.write_text(json.dumps({"schema": "initreport.manifest/2", "files": {
        **listed, "old-page.md": sha, "../keep.txt": keep_sha, str(project / "keep.txt"): keep_sha}}))

    res = CliRunner().invoke(main, ["build", "--quick", "--jobs", "1", "--project-dir", str(project)])
    assert res.exit_code == 0, res.output
    for path, data in own.items():
        assert path.read_bytes() == data, path
    assert (docs / "assets" / "extra.css").read_bytes() == css
    assert not (docs / "old-page.md").exists()
    now = json.loads(manifest.read_text())["files"]
    assert "notes.md" not in now and "old-page.md" not in now and "figures/mine.svg" not in now
    # MkDocs builds the hand-added page although it is not in the nav (omitted_files: info, not a warning).
    assert (project / "site" / "notes.html").is_file()


def test_output_under_a_file_fails_cleanly(tmp_path, monkeypatch):
    """What holds today for output-under-a-file: exit 1, one Error line on stderr naming the path, no file."""
    (tmp_path / "somefile").write_text("a regular file\n")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    res = CliRunner().invoke(main, ["run", *FAST, "--output", "somefile/out.json"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "somefile/out.json" in error_line(res.stderr, 1)
    assert diff(before, snapshot(tmp_path)) == []


def test_a_bug_ends_in_one_line_and_a_crash_file(tmp_path, monkeypatch):
    """An unexpected exception (a bug, not bad input) gives one Error line naming a file that holds the
    traceback; INITREPORT_DEBUG=1 shows the traceback itself."""
    import initreport.runner

    def broken(*args, **kwargs):
        raise ValueError("Too many bins for data range.\nsecond line")

    monkeypatch.setattr(initreport.runner, "run_stack", broken)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.delenv("INITREPORT_DEBUG", raising=False)
    res = CliRunner().invoke(main, ["run", *FAST])
    assert res.exit_code == 1, res.output
    line = error_line(res.stderr, 1)
    assert "internal error (ValueError: Too many bins for data range.)" in line and "bug" in line
    [crash] = tmp_path.glob("initreport-crash-*.txt")
    assert str(crash) in line
    text = crash.read_text()
    assert "Traceback" in text and "in broken" in text and "raise ValueError" in text
    monkeypatch.setenv("INITREPORT_DEBUG", "1")
    res = CliRunner().invoke(main, ["run", *FAST])
    assert isinstance(res.exception, ValueError)


def test_cache_removes_only_temporary_files_of_dead_writers(tmp_path):
    """What a SIGKILL mid-write leaves is removed by the next build; a live writer's file is kept."""
    from initreport.cache import ResultCache, atomic_write
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "results" / "ab"
    folder.mkdir(parents=True)
    stale = folder / f".abcd.json.{dead.pid}.x1y2.tmp"
    live = folder / f".abcd.json.{os.getpid()}.x1y2.tmp"
    unknown = folder / ".abcd.json.x1y2.tmp"                    # not atomic_write's pattern: left alone
    for p in (stale, live, unknown):
        p.write_text("{")
    ResultCache(tmp_path)
    assert not stale.exists() and live.exists() and unknown.exists()
    atomic_write(folder / "abcd.json", "{}")
    assert sorted(p.name for p in folder.iterdir()) == sorted([live.name, unknown.name, "abcd.json"])
