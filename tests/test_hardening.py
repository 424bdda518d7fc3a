"""Hardening (issue 11): hostile inputs and faults end cleanly, one test per class.

* Containment: no write, replace or delete leaves its root (docs/, the cache); cache entries,
  the figure cache's figure.json and the docs manifest are validated before use.
* Process lifecycle: SIGTERM and SIGHUP stop like Ctrl-C; one build per project at a time.
* Resource bounds: a job that cannot fit in memory is refused up front, a long one announced;
  MemoryError and a failing disk end in one ``Error:`` line.
* Injection: user text reaching the site is inert; control characters never reach the terminal.
* Numerics: no RuntimeWarning reaches the user.

``HOSTILE`` counts the distinct hostile cases exercised here (the README quotes the number).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pty
import re
import select
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
from test_reliability import CACHE, PYTHON_CLI, diff, error_line, result_files, snapshot, warm_copy

ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
ENV.pop("INITREPORT_DEBUG", None)
HOSTILE: list[str] = []       # every hostile case below registers its id here


def hostile(*ids):
    HOSTILE.extend(ids)
    return ids


def _count_results(project: Path) -> int:
    return len(list((project / CACHE / "results").rglob("*.json")))


def _build(project: Path, *extra) -> "click.testing.Result":  # noqa: F821
    return CliRunner().invoke(main, ["build", "--quick", "--jobs", "1", "--project-dir", str(project), *extra])


# --------------------------------------------------------------------------------------- 1. containment

LINKED = hostile("docs/figures", "docs/data", "docs", "docs/pitfalls", ".initreport-cache/figures",
                 ".initreport-cache/results")


@pytest.mark.parametrize("folder", LINKED)
def test_a_folder_linked_out_of_the_project_is_refused_before_any_write(quick_project, tmp_path, folder):
    """A docs/ or cache folder that is a symlink to a folder outside: one Error line naming it,
    nothing written outside (not even a file of the same name), nothing changed inside."""
    project = warm_copy(quick_project, tmp_path / "p")
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = "index.md" if folder == "docs" else "x.svg"
    (outside / victim).write_text("the user's own file\n")
    shutil.rmtree(project / folder)
    (project / folder).symlink_to(outside, target_is_directory=True)
    before, outside_before = snapshot(project), snapshot(outside)
    res = _build(project, "--force")
    assert res.exit_code == 1, res.output
    line = error_line(res.stderr, 1)
    assert "symbolic link" in line and folder in line and str(outside) in line, line
    assert diff(outside_before, snapshot(outside)) == []
    assert diff(before, snapshot(project)) == []


def _figure_folders(project: Path) -> list[Path]:
    return sorted(p.parent for p in (project / CACHE / "figures").glob("*/figure.json"))


BAD_FIGURES = {
    "figure-json-parent-path": lambda fig: dict(fig, light="../../../x.svg"),
    "figure-json-absolute-path": lambda fig: dict(fig, dark="/tmp/initreport-x.svg"),
    "figure-json-subfolder": lambda fig: dict(fig, light="sub/x.svg"),
    "figure-json-missing-key": lambda fig: {k: v for k, v in fig.items() if k != "dark"},
    "figure-json-missing-caption": lambda fig: {k: v for k, v in fig.items() if k != "caption"},
    "figure-json-not-an-object": lambda fig: [fig],
    "figure-json-number-name": lambda fig: dict(fig, light=7),
}
hostile(*BAD_FIGURES)


@pytest.mark.parametrize("case", sorted(BAD_FIGURES))
def test_an_invalid_figure_json_is_discarded_and_rerendered(quick_project, tmp_path, case):
    project = warm_copy(quick_project, tmp_path / "a" / "b" / "c" / "p")
    folder = _figure_folders(project)[0]
    meta = folder / "figure.json"
    good = json.loads(meta.read_text())
    meta.write_text(json.dumps(BAD_FIGURES[case](good)))
    # What a followed "../../../x.svg" would read, and where an absolute name would point.
    bait = tmp_path / "a" / "b" / "x.svg"
    bait.parent.mkdir(parents=True, exist_ok=True)
    bait.write_text("<svg>not a figure</svg>\n")
    figures_before = {p.name: p.read_bytes() for p in (project / "docs" / "figures").iterdir()}
    res = _build(project)
    assert res.exit_code == 0, res.output
    assert "figures 1 rendered" in res.output, res.output
    assert json.loads(meta.read_text()) == good                          # rendered again, same names
    after = {p.name: p.read_bytes() for p in (project / "docs" / "figures").iterdir()}
    assert after == figures_before                                       # same bytes, nothing else
    assert bait.read_text() == "<svg>not a figure</svg>\n"                # nothing written outside
    assert sorted(p.name for p in bait.parent.iterdir()) == ["c", "x.svg"]
    assert not any(b"not a figure" in data for data in after.values())   # nor read into docs/
    assert not Path("/tmp/initreport-x.svg").exists()


hostile("figure-file-symlink-outside")


def test_a_figure_file_linked_outside_is_not_followed(quick_project, tmp_path):
    project = warm_copy(quick_project, tmp_path / "p")
    folder = _figure_folders(project)[0]
    name = json.loads((folder / "figure.json").read_text())["light"]
    secret = tmp_path / "secret.svg"
    secret.write_text("<svg>secret</svg>\n")
    (folder / name).unlink()
    (folder / name).symlink_to(secret)
    res = _build(project)
    assert res.exit_code == 0, res.output
    assert "figures 1 rendered" in res.output
    assert b"secret" not in (project / "docs" / "figures" / name).read_bytes()
    assert not (folder / name).is_symlink()


def _rechecksum(entry: dict) -> dict:
    payload = json.dumps(entry["result"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return dict(entry, checksum=hashlib.sha256(payload.encode()).hexdigest())


BAD_ENTRIES = {
    "entry-missing-final-key": lambda r: r["final"].pop("loss"),
    "entry-missing-history": lambda r: r.pop("history"),
    "entry-layer-missing-stat": lambda r: r["layers"][0].pop("activation_std"),
    "entry-wrong-schema": lambda r: r.update(schema="initreport.result/0"),
    "entry-history-not-summaries": lambda r: r.update(history=[{"loss": 1}]),
    "entry-diverged-wrong-type": lambda r: r.update(diverged=[{"seed": "0", "epoch": 1}]),
}
hostile(*BAD_ENTRIES)


@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_a_cache_entry_with_a_valid_checksum_but_a_broken_result_is_discarded(quick_project, tmp_path, case):
    from initreport.cache import ResultCache
    src = quick_project[0] / CACHE
    entry_file = next(p for p in sorted((src / "results").rglob("*.json"))
                      if json.loads(p.read_text())["result"]["layers"])
    cache = ResultCache(tmp_path / CACHE)
    key = entry_file.stem
    entry = json.loads(entry_file.read_text())
    BAD_ENTRIES[case](entry["result"])
    cache.path(key).parent.mkdir(parents=True)
    cache.path(key).write_text(json.dumps(_rechecksum(entry)))
    assert cache.get(key) is None
    assert cache.discarded == [key] and not cache.path(key).exists()


def test_a_broken_cache_entry_is_rerun_by_the_build(quick_project, tmp_path):
    """The issue's case: a valid checksum, a missing key. The build reruns it (no KeyError) and
    writes back the same bytes as before."""
    project = warm_copy(quick_project, tmp_path / "p")
    entry_file = sorted((project / CACHE / "results").rglob("*.json"))[3]
    original = entry_file.read_bytes()
    entry = json.loads(original)
    del entry["result"]["final"]["loss"]
    entry_file.write_text(json.dumps(_rechecksum(entry)))
    res = _build(project)
    assert res.exit_code == 0, res.output
    assert "1 corrupt cache entries discarded" in res.output and " 1 run, " in res.output, res.output
    assert entry_file.read_bytes() == original


hostile("manifest-stale-edited", "manifest-stale-no-hash", "manifest-lists-assets", "manifest-parent-path",
        "manifest-absolute-path", "manifest-not-json", "manifest-symlinked-stale")


def test_the_build_deletes_only_unedited_generated_files(quick_project, tmp_path):
    """Stale generated files are removed only while they hold what the build wrote; an edited one,
    one listed without a hash, sources under docs/assets and entries leading out are kept."""
    project = warm_copy(quick_project, tmp_path / "p")
    docs = project / "docs"
    manifest = docs / ".initreport-manifest.json"
    files = json.loads(manifest.read_text())["files"]
    assert isinstance(files, dict) and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in files.values())
    stale = {"old.md": b"# Old\n", "edited.md": b"# Generated\n", "nohash.md": b"# Legacy\n",
             "figures/old--x--light.svg": b"<svg/>\n"}
    for rel, data in stale.items():
        (docs / rel).write_bytes(data)
    outside = tmp_path / "outside.md"
    outside.write_bytes(b"# Outside\n")
    (docs / "linked.md").symlink_to(outside)
    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    css = docs / "assets" / "extra.css"
    listed = {**files, "old.md": sha(b"# Old\n"), "edited.md": sha(b"# Generated\n"), "nohash.md": None,
              "figures/old--x--light.svg": sha(b"<svg/>\n"), "assets/extra.css": sha(css.read_bytes()),
              "../outside.md": sha(b"# Outside\n"), str(outside): sha(b"# Outside\n"),
              "linked.md": sha(b"# Outside\n")}
    (docs / "edited.md").write_bytes(b"# Generated, then edited by hand\n")
    manifest.write_text(json.dumps({"schema": "initreport.manifest/2", "files": listed}))
    css_before = css.read_bytes()
    res = _build(project)
    assert res.exit_code == 0, res.output
    assert not (docs / "old.md").exists() and not (docs / "figures/old--x--light.svg").exists()
    assert (docs / "edited.md").read_bytes() == b"# Generated, then edited by hand\n"
    assert (docs / "nohash.md").read_bytes() == b"# Legacy\n"
    assert css.read_bytes() == css_before
    assert outside.read_bytes() == b"# Outside\n" and (docs / "linked.md").is_symlink()
    now = json.loads(manifest.read_text())["files"]
    assert set(now) == set(files)                    # only what this build generated
    # A manifest that is not JSON: nothing is deleted, the build goes on and writes a good one.
    manifest.write_text("{not json")
    (docs / "old.md").write_bytes(b"# Old\n")
    res = _build(project)
    assert res.exit_code == 0, res.output
    assert (docs / "old.md").exists() and set(json.loads(manifest.read_text())["files"]) == set(files)


PATH_CASES = hostile("path-dotdot", "path-absolute", "path-empty", "path-nul", "path-dot", "path-link-out",
                     "path-link-out-deeper")


def test_inside_refuses_every_way_out(tmp_path):
    from initreport.safety import UnsafePath, inside
    cases = PATH_CASES
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "out").symlink_to(tmp_path / "elsewhere")
    (root / "a" / "in").symlink_to(root / "a")                   # a link that stays inside is fine
    bad = ["../x", "/etc/passwd", "", "a/\x00b", "./a", "out/x.svg", "a/in/../../x"]
    assert len(bad) == len(cases)
    for rel in bad:
        with pytest.raises(UnsafePath):
            inside(root, rel)
    assert inside(root, "a/in/x.md") == root / "a" / "in" / "x.md"
    assert inside(root, "new/folder/x.md") == root / "new" / "folder" / "x.md"


# --------------------------------------------------------------------------------------- 2. process lifecycle


def _wait_for(predicate, proc, timeout=180):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


@pytest.mark.slow
@pytest.mark.parametrize("sig", hostile("build-SIGTERM", "build-SIGHUP"))
def test_sigterm_and_sighup_end_a_build_like_ctrl_c(quick_project, tmp_path, sig):
    signum = getattr(signal, sig.split("-")[1])
    project = copy_project(tmp_path / "p")
    shutil.copytree(quick_project[0] / "site", project / "site")
    site_before = snapshot(project / "site")
    proc = subprocess.Popen(PYTHON_CLI + ["build", "--quick", "--jobs", "2", "--project-dir", str(project)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            start_new_session=True)
    try:
        _wait_for(lambda: _count_results(project) >= 3, proc)
        workers = _children(proc.pid)
        os.kill(proc.pid, signum)             # the main process only, as `kill PID` or a closed terminal does
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + signum, err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("Running")]
    assert lines == [f"Interrupted by {signal.Signals(signum).name}. Finished results are kept in the cache; "
                     "the previous site is intact."], lines
    assert diff(site_before, snapshot(project / "site")) == []
    assert 3 <= _count_results(project) < _count_results(quick_project[0])
    time.sleep(1)
    alive = [pid for pid in workers if os.path.exists(f"/proc/{pid}")
             and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
    assert alive == [], f"worker processes left: {alive}"


@pytest.mark.parametrize("sig", hostile("run-SIGTERM", "run-SIGHUP"))
def test_sigterm_and_sighup_stop_a_threaded_run(tmp_path, sig):
    signum = getattr(signal, sig.split("-")[1])
    out = tmp_path / "r.json"
    proc = subprocess.Popen(PYTHON_CLI + ["run", "--depth", "6", "--width", "128", "--epochs", "500", "--seeds", "4",
                                          "--jobs", "2", "--output", str(out), "--yes"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        time.sleep(4)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum, err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("Note:")]
    assert lines == [f"Interrupted by {signal.Signals(signum).name}. No output file was written."], lines
    assert not out.exists()


hostile("two-builds-at-once")


@pytest.mark.slow
def test_a_second_build_in_the_same_project_refuses_at_once(tmp_path):
    """Two real builds in one project: the second ends at once with one line naming the first's PID,
    and changes nothing; once the first is gone (even by SIGKILL) the lock is free again."""
    project = copy_project(tmp_path / "p")
    first = subprocess.Popen(PYTHON_CLI + ["build", "--quick", "--jobs", "1", "--project-dir", str(project)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, start_new_session=True)
    try:
        _wait_for(lambda: _count_results(project) >= 1, first)
        before = result_files(project)
        started = time.monotonic()
        second = subprocess.run(PYTHON_CLI + ["build", "--quick", "--jobs", "1", "--project-dir", str(project)],
                                capture_output=True, text=True, env=ENV, timeout=120)
        took = time.monotonic() - started
        assert first.poll() is None, "the first build ended before the second one started"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    assert second.returncode == 1, second.stderr
    line = error_line(second.stderr, 1)
    assert f"another initreport build (PID {first.pid}) is running" in line, line
    assert second.stdout == "" and took < 60
    assert not (project / "site").exists()
    assert set(before) <= set(result_files(project))            # the first build's results are untouched
    # The kernel released the SIGKILLed holder's lock: the next build takes it.
    from initreport.safety import ProjectLock
    with ProjectLock(project, CACHE) as lock:
        assert (project / CACHE / "lock").read_text().strip() == str(os.getpid())
    assert lock.fd is None


# --------------------------------------------------------------------------------------- 3. resource bounds


@pytest.mark.parametrize("argv", [
    ["--seeds", "100000", "--width", "8"],
    ["--width", "100000"],
    ["--seeds", "20000", "--width", "256", "--depth", "10"],
    ["--seeds", "100000000", "--width", "1"],
    ["--seeds", "99999999999999999999"],
    ["--depth", "99999999999999999999"],
    ["--epochs", "99999999999999999999", "--width", "1", "--seeds", "1"],
], ids=hostile("run-seeds-100000", "run-width-100000", "run-seeds-20000-width-256", "run-seeds-1e8",
               "run-seeds-1e20", "run-depth-1e20", "run-epochs-1e20"))
def test_a_run_that_cannot_fit_in_memory_is_refused_up_front(tmp_path, argv):
    started = time.monotonic()
    proc = subprocess.Popen(PYTHON_CLI + ["run", *argv, "--output", "r.json"], cwd=tmp_path, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    took = time.monotonic() - started
    assert proc.returncode == 1, err
    line = error_line(err, 1)
    assert re.search(r"needs about [\d.e+]+ (GiB|TiB) of memory .* more than the [\d.]+ \w+ available", line), line
    assert out == "" and list(tmp_path.iterdir()) == []
    assert took < 60


hostile("build-profile-too-big")


def test_a_build_that_cannot_fit_in_memory_is_refused_before_running(quick_project, tmp_path):
    project = warm_copy(quick_project, tmp_path / "p")
    # Every knob within its allowed range, the whole far beyond this machine's memory.
    (project / "initreport.toml").write_text('[profile.huge]\nbase = "quick"\nseeds = ' + str(list(range(64)))
                                             + '\nvariance_width = 4096\nvariance_depth = 200\n')
    keep = {d: snapshot(project / d) for d in ("docs", "site", f"{CACHE}/results")}
    res = CliRunner().invoke(main, ["build", "--profile", "huge", "--project-dir", str(project)])
    assert res.exit_code == 1, res.output
    line = error_line(res.stderr, 1)
    assert "this build (" in line and "needs about" in line and "initreport.toml" in line, line
    for d, before in keep.items():
        assert diff(before, snapshot(project / d)) == [], d


def _long_run(extra=()):
    # 64 seeds of width 1024 for 10,000 epochs: days of work on this machine.
    return PYTHON_CLI + ["run", "--seeds", "64", "--width", "1024", "--epochs", "10000", *extra]


hostile("long-run-at-terminal", "long-run-without-terminal")


def test_a_long_job_is_announced_and_needs_a_yes_at_a_terminal(tmp_path):
    master, slave = pty.openpty()
    proc = subprocess.Popen(_long_run(), cwd=tmp_path, env=ENV, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"[y/N]" not in seen:
            assert time.monotonic() < deadline, seen
            if select.select([master], [], [], 1)[0]:
                seen += os.read(master, 4096)
        os.write(master, b"n\n")
        proc.wait(timeout=30)
        while select.select([master], [], [], 0.5)[0]:
            try:
                seen += os.read(master, 4096)
            except OSError:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = seen.decode()
    assert re.search(r"this run \(64 seeds, depth 3 × width 1024, 10000 epochs\) is estimated to take about "
                     r"[\d.]+ (h|days)", text), text
    assert proc.returncode == 1 and "Error: not started" in text, text
    # Without a terminal: one Note line with the estimate, then it starts (stopped here at once).
    proc = subprocess.Popen(_long_run(), cwd=tmp_path, env=ENV, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
    finally:
        proc.kill()
        proc.communicate()
    assert line.startswith("Note: this run (64 seeds") and "starting it without asking" in line, line


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT],
                         ids=hostile("output-ENOSPC", "output-EROFS", "output-EACCES", "output-EDQUOT"))
def test_a_failing_disk_is_one_error_line_not_a_bug(tmp_path, monkeypatch, code):
    import initreport.cache

    def failing(path, data):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(initreport.cache, "atomic_write", failing)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["run", "--dataset", "circles", "--epochs", "1", "--seeds", "1", "--width", "4",
                                    "--output", "out.json"])
    assert res.exit_code == 1
    line = error_line(res.stderr, 1)
    assert os.strerror(code) in line and "out.json" in line and "bug" not in line, line


hostile("figures-ENOSPC")


def test_a_full_disk_while_rendering_figures_is_one_error_line(quick_project, tmp_path, monkeypatch):
    import initreport.build

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "figure.svg")

    project = warm_copy(quick_project, tmp_path / "p")
    shutil.rmtree(project / CACHE / "figures")
    site_before = snapshot(project / "site")
    monkeypatch.setattr(initreport.build, "_render_one", full)
    res = _build(project)
    assert res.exit_code == 1
    line = error_line(res.stderr, 1)
    assert "No space left on device" in line and "bug" not in line, line
    assert diff(site_before, snapshot(project / "site")) == []


hostile("run-MemoryError")


def test_memory_error_is_one_error_line_not_a_bug(monkeypatch):
    import initreport.runner

    def oom(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(initreport.runner, "run_stack", oom)
    res = CliRunner().invoke(main, ["run", "--dataset", "circles", "--epochs", "1", "--seeds", "1", "--width", "4"])
    assert res.exit_code == 1
    line = error_line(res.stderr, 1)
    assert line.startswith("Error: out of memory") and "bug" not in line, line


PEAK_CLI = """
import atexit, sys
def peak():
    sys.stderr.write([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0])
atexit.register(peak)
from initreport.cli import main
main()
"""


def test_the_estimate_is_never_below_the_measured_peak(tmp_path):
    """Calibration of runner.estimate against real processes (peak RSS); the time side is
    measured, not asserted (see runner.MACS_PER_SECOND)."""
    from initreport.datasets import load_dataset
    from initreport.runner import estimate, make_config
    for dataset, width, depth, seeds in (("digits", 8, 3, 600), ("circles", 16, 2, 800), ("digits", 256, 2, 4)):
        config = make_config(dataset=dataset, width=width, depth=depth, seeds=range(seeds), epochs=1,
                             lr=0.01, momentum=0.9)
        predicted = estimate([config], load_dataset(dataset)).bytes
        # VmHWM of the process itself (ru_maxrss would count the forking parent's memory too).
        proc = subprocess.run([sys.executable, "-c", PEAK_CLI, "run", "--dataset", dataset, "--width", str(width),
                               "--depth", str(depth), "--seeds", str(seeds), "--epochs", "1", "--jobs", "1"],
                              cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        peak = int(re.search(r"VmHWM:\s+(\d+) kB", proc.stderr).group(1)) * 1024
        assert peak <= predicted <= 4 * peak, (dataset, width, seeds, peak, predicted)


# --------------------------------------------------------------------------------------- 4. injection

DESCRIPTIONS = {
    "description-js-link": "[click me](javascript:alert(document.domain))",
    "description-image": "![x](http://evil.example/x.png)",
    "description-autolink": "<javascript:alert(1)> <http://evil.example>",
    "description-script": "<script>alert(1)</script>",
    "description-html-attr": "<a href=\"javascript:alert(1)\">x</a>",
    "description-ref-link": "[x][1]\n\n[1]: javascript:alert(1)",
    "description-math": "$\\href{javascript:alert(1)}{x}$",
}
hostile(*DESCRIPTIONS)


@pytest.mark.slow
def test_markup_in_a_profile_description_is_inert_on_the_site(quick_project, tmp_path):
    project = warm_copy(quick_project, tmp_path / "p")
    text = " ".join(DESCRIPTIONS.values())
    (project / "initreport.toml").write_text(f'[profile.tiny]\nbase = "quick"\ndescription = {json.dumps(text)}\n')
    res = CliRunner().invoke(main, ["build", "--profile", "tiny", "--jobs", "1", "--project-dir", str(project)])
    assert res.exit_code == 0, res.output
    page = (project / "site" / "reproducibility.html").read_text()
    assert "click me" in page and "evil.example" in page                   # shown, as text
    lowered = page.lower()
    for bad in ('href="javascript:', "href='javascript:", 'src="http://evil', "<script>alert",
                'href="http://evil', "<a href=\"javascript"):
        assert bad not in lowered, bad
    assert not re.search(r"<a [^>]*javascript", lowered)


CONTROL_NAMES = {
    "dataset-name-escape-sequence": ["run", "--dataset", "\x1b[2J\x1b[31mred.csv"],
    "dataset-name-newline": ["run", "--dataset", "a\nError: fake second line.csv"],
    "init-name-escape-sequence": ["run", "--init", "he\x1b]0;pwned\x07"],
    "output-name-control": ["run", "--dataset", "circles", "--epochs", "1", "--seeds", "1", "--width", "4",
                            "--output", "no-such-dir/\x1b[31mx.json"],
    "label-column-control": ["run", "--dataset", "d.csv", "--label-column", "\x1b[1mnope\r"],
    "profile-name-control": ["build", "--profile", "\x1b[31mhuge"],
}
hostile(*CONTROL_NAMES)


@pytest.mark.parametrize("case", sorted(CONTROL_NAMES))
def test_control_characters_are_escaped_in_terminal_messages(tmp_path, monkeypatch, case):
    copy_project(tmp_path)
    (tmp_path / "d.csv").write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, CONTROL_NAMES[case])
    assert res.exit_code in (1, 2), res.output
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", res.output), repr(res.output)
    line = error_line(res.stderr, res.exit_code)
    assert "\\x1b" in line or "\\n" in line or "\\r" in line, line


# --------------------------------------------------------------------------------------- 5. numerics

NUMERIC = {
    "lr-1e300": ["--lr", "1e300"],
    "lr-1e30": ["--lr", "1e30"],
    "lr-1e300-float64": ["--lr", "1e300", "--dtype", "float64"],
    "gain-1e300": ["--init", "scaled_normal", "--gain", "1e300"],
    "gain-3e38": ["--init", "scaled_normal", "--gain", "3e38"],
    "gain-1e300-orthogonal": ["--init", "orthogonal", "--gain", "1e300"],
    "gain-1e307-float64": ["--init", "scaled_normal", "--gain", "1e307", "--dtype", "float64"],
    "value-1e200": ["--init", "constant", "--value", "1e200"],
    "value-1e30": ["--init", "constant", "--value", "1e30"],
    "bias-1e300": ["--bias", "1e300"],
    "bias-1e300-float64": ["--bias", "1e300", "--dtype", "float64"],
    "large-random-lr-1e10-sigmoid": ["--init", "large_random", "--lr", "1e10", "--activation", "sigmoid"],
    "large-random-lr-1e10-tanh": ["--init", "large_random", "--lr", "1e10", "--activation", "tanh",
                                  "--dataset", "digits"],
}
hostile(*NUMERIC)


@pytest.mark.parametrize("case", sorted(NUMERIC))
def test_no_runtime_warning_reaches_the_user(tmp_path, case):
    """Run with RuntimeWarnings turned into errors: either a clean refusal up front naming the value,
    or a run that records divergence; never a warning, never "a bug"."""
    argv = [sys.executable, "-W", "error::RuntimeWarning", "-m", "initreport.cli", "run", "--dataset", "circles",
            "--epochs", "3", "--seeds", "2", "--width", "8", "--depth", "2", "--output", "r.json"]
    proc = subprocess.run(argv + NUMERIC[case], cwd=tmp_path, capture_output=True, text=True, env=ENV, timeout=120)
    assert "Warning" not in proc.stderr and "Traceback" not in proc.stderr and "bug" not in proc.stderr
    if proc.returncode == 1:
        line = error_line(proc.stderr, 1)
        assert "does not fit in float32" in line, line
    else:
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        text = (tmp_path / "r.json").read_text()
        assert "NaN" not in text and "Infinity" not in text


def test_hostile_case_count():
    """The number quoted in the README's Guarantees table (every case above ends cleanly)."""
    assert len(HOSTILE) == len(set(HOSTILE)) == 81, len(HOSTILE)
