"""The CLI: useful output for good input, a one-line error for bad input."""

import json

import pytest
from click.testing import CliRunner

from initreport.cli import main
from initreport.fmt import parse


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_run_prints_summary_and_writes_json(tmp_path):
    out = tmp_path / "r.json"
    res = invoke("run", "--init", "he_normal", "--activation", "relu", "--depth", "2", "--width", "16",
                 "--epochs", "2", "--seeds", "2", "--dataset", "circles", "--output", str(out))
    assert res.exit_code == 0, res.output
    assert "At initialisation" in res.output and "test accuracy" in res.output
    # The per-layer table holds plain numbers a terminal user (or a script) can read back.
    rows = res.output.split("At initialisation:\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert len(rows) == 2
    for row in rows:
        layer, mean, std, grad, *_ = row.split()
        assert parse(std) > 0 and parse(grad) > 0, row
        assert "<" not in row, row          # the text target: no HTML reaches the terminal
    data = json.loads(out.read_text())
    assert len(data["layers"]) == 2
    assert all("activation_std" in l and "gradient_std" in l for l in data["layers"])
    assert [h["epoch"] for h in data["history"]] == [0, 1, 2]
    assert data["history"][-1]["loss"]["n"] == 2


def test_run_jobs_split_the_seeds_over_threads_and_change_no_number(tmp_path):
    outs = []
    for jobs in ("1", "3"):
        out = tmp_path / f"r{jobs}.json"
        res = invoke("run", "--init", "glorot_uniform", "--activation", "tanh", "--depth", "3", "--width", "16",
                     "--epochs", "3", "--seeds", "5", "--momentum", "0.9", "--jobs", jobs, "--output", str(out))
        assert res.exit_code == 0, res.output
        assert ("on 3 threads" in res.output) == (jobs == "3")
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_run_shows_epoch_progress_at_a_terminal_only(monkeypatch):
    import initreport.cli as cli
    import initreport.runner as runner

    epochs_seen = []
    real = runner.run_stack

    def spy(configs, **kw):
        if kw.get("on_epoch"):
            inner = kw["on_epoch"]
            kw["on_epoch"] = lambda e: (epochs_seen.append(e), inner(e))
        return real(configs, **kw)

    monkeypatch.setattr(runner, "run_stack", spy)
    args = ("run", "--depth", "1", "--width", "8", "--epochs", "3", "--seeds", "2", "--dataset", "circles")
    res = CliRunner().invoke(main, list(args))
    assert res.exit_code == 0 and "Training" not in res.output and epochs_seen == []
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    res = CliRunner().invoke(main, list(args))
    assert res.exit_code == 0, res.output
    assert epochs_seen == [1, 2, 3]
    assert "Training 2 seed(s), 3 epochs" in res.stderr     # (click draws the bar itself only on a real tty)


def test_run_with_csv(tmp_path):
    csv = tmp_path / "d.csv"
    rows = ["a,b,label"] + [f"{i % 7},{(i * 3) % 5},{'yes' if i % 2 else 'no'}" for i in range(40)]
    csv.write_text("\n".join(rows) + "\n")
    res = invoke("run", "--dataset", str(csv), "--epochs", "1", "--seeds", "1", "--width", "4")
    assert res.exit_code == 0, res.output


def test_list_shows_everything():
    res = invoke("list")
    assert res.exit_code == 0
    for word in ("he_normal", "glorot_uniform", "lecun_normal", "leaky_relu", "digits", "spirals",
                 "zero-relu-tanh", "depth-study", "summary", "√"):
        assert word in res.output, word


@pytest.mark.parametrize("args,needle", [
    (["run", "--init", "kaiming"], "unknown initialiser 'kaiming'"),
    (["run", "--activation", "swish"], "unknown activation 'swish'"),
    (["run", "--dataset", "mnist"], "unknown dataset 'mnist'"),
    (["run", "--depth", "0"], "--depth"),
    (["run", "--width", "-3"], "--width"),
    (["run", "--epochs", "-1"], "--epochs"),
    (["run", "--batch-size", "0"], "--batch-size"),
    (["run", "--lr", "0"], "--lr"),
    (["run", "--lr", "-0.1"], "--lr"),
    (["run", "--lr", "nan"], "--lr"),
    (["run", "--lr", "abc"], "--lr"),
    (["run", "--seeds", "0"], "--seeds"),
    (["run", "--momentum", "1.5"], "--momentum"),
    (["run", "--dataset", "/nonexistent/file.csv"], "file.csv"),
    (["run", "--init", "zeros", "--gain", "2"], "gain"),
    (["list", "--profile", "huge"], "unknown profile 'huge'"),
    (["build", "--quick", "--profile", "default"], "disagree"),
    (["build", "--jobs", "0"], "--jobs"),
])
def test_bad_input_is_one_clean_line(args, needle):
    res = CliRunner().invoke(main, args)
    assert res.exit_code != 0
    assert "Traceback" not in res.output
    assert needle in res.output, res.output
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit)


def test_build_outside_a_project_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(main, ["build", "--quick", "--project-dir", str(tmp_path)])
    assert res.exit_code == 1
    assert "not an initreport project" in res.output
    assert list(tmp_path.iterdir()) == []


def test_serve_before_any_build_says_what_to_do(tmp_path):
    from conftest import copy_project

    project = copy_project(tmp_path / "p")
    res = CliRunner().invoke(main, ["serve", "--project-dir", str(project)])
    assert res.exit_code == 1
    assert "run `initreport build`" in res.output and "Traceback" not in res.output


def test_shared_options_read_the_same_everywhere():
    from initreport.options import SHARED

    seen = {}
    for name, command in main.commands.items():
        for param in command.params:
            for flag in getattr(param, "opts", []):
                if flag in SHARED:
                    assert param.help == SHARED[flag], f"{name} {flag}"
                    seen.setdefault(flag, []).append(name)
    # each shared option is used by several commands, so the check above compares something
    assert all(len(commands) >= 2 for commands in seen.values()) and set(seen) == set(SHARED), seen


def test_build_progress_is_drawn_from_typed_events(capsys):
    from pathlib import Path

    from initreport import events
    from initreport.cli import BuildProgress

    stream = [events.StageStarted("runs", 5, "5 runs of 2 experiments (profile tiny)"),
              events.RunsResolved(5, 3), events.RunFinished(2, 6, 0.5, "relu, digits"),
              events.StageStarted("figures", 4, "anything"), events.FiguresDone(1, 3),
              events.StageStarted("pages", None), events.PagesWritten(13),
              events.StageStarted("site", 1), events.SiteBuilt(Path("site"))]
    with BuildProgress(interactive=False) as progress:        # a log: one line, for the runs stage
        for event in stream:
            progress(event)
    assert capsys.readouterr().err == "Running 5 runs of 2 experiments (profile tiny)\n"
    with BuildProgress(interactive=True) as progress:         # a terminal: a bar, then a line per stage
        for event in stream[:3]:
            progress(event)
        assert progress.bar.pos == 5 and progress._counts(None) == "3 cached, 2 run"
        for event in stream[3:]:
            progress(event)
        assert progress.bar is None
    err = capsys.readouterr().err     # (click draws the bar itself only on a real terminal)
    assert err.index("Running 5 runs") < err.index("Rendering figures") < err.index("Writing pages") < err.index("Building the site")
