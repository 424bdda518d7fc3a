"""The command line: thin Click commands that parse options and call one function each."""

from __future__ import annotations

import contextlib
import errno
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import click

from . import __version__
from .errors import InitReportError, Terminated, terminal_safe
from .options import (CACHE_FORCE_HELP, DATASET_HELP, INIT_HELP, PUSH_FORCE_HELP, QUICK_HELP, jobs_option,
                      profile_option, project_dir_option, site_dir_option)

HELP = """Put the lore of weight initialisation to the test and publish the evidence.

\b
  initreport build      run the experiment catalogue and build the site
  initreport run        one ad-hoc experiment, with a summary table
  initreport list       initialisers, activations, datasets and experiments
  initreport serve      live preview of the site
  initreport publish    push the built site to the gh-pages branch
"""



def _fail(exc: BaseException):
    click.echo(f"Error: {terminal_safe(str(exc))}", err=True)
    sys.exit(1)


# Failures of the machine, not of initreport: one line naming the cause, never "a bug".
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO,
                      errno.ENOMEM, errno.EMFILE, errno.ENFILE, errno.EFBIG, errno.ENAMETOOLONG, errno.ENOENT,
                      errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ENOTEMPTY, errno.EBUSY, errno.ETXTBSY,
                      errno.ELOOP, errno.EXDEV}


def _os_error_text(exc: OSError) -> str:
    what = exc.strerror or type(exc).__name__
    where = f": {exc.filename}" if exc.filename else ""
    return f"{what}{where}"


@contextlib.contextmanager
def _signals_raise():
    """SIGTERM and SIGHUP raise :class:`Terminated` (a KeyboardInterrupt) in the main thread, so a
    build they stop cleans up like one stopped with Ctrl-C. Previous handlers are put back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum, frame):
        if fired:             # a second signal while cleaning up: the first one is being handled
            return
        fired.append(signum)
        raise Terminated(signum)

    saved = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        saved[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)


class _Group(click.Group):
    """Turns InitReportError into a one-line message with exit code 1, Ctrl-C into exit 130,
    SIGTERM/SIGHUP into 143/129, and MemoryError or a failing disk into one ``Error:`` line."""

    def invoke(self, ctx):
        try:
            with _signals_raise():
                return super().invoke(ctx)
        except InitReportError as exc:
            _fail(exc)
        except KeyboardInterrupt as exc:
            kept = {"build": " Finished results are kept in the cache; the previous site is intact.",
                    "run": " No output file was written."}.get(ctx.invoked_subcommand, "")
            if isinstance(exc, Terminated):
                click.echo(f"\nInterrupted by {exc.name}.{kept}", err=True)
                sys.exit(exc.exit_code)
            click.echo(f"\nInterrupted.{kept}", err=True)
            sys.exit(130)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort) as exc:
            if isinstance(exc, click.exceptions.ClickException):
                exc.message = terminal_safe(exc.message)
            raise
        except MemoryError:
            _fail(InitReportError("out of memory: the job needs more memory than this machine has free; "
                                  "use fewer seeds, a smaller width or depth, or --jobs 1"))
        except OSError as exc:
            if exc.errno not in ENVIRONMENT_ERRNOS or os.environ.get("INITREPORT_DEBUG"):
                _internal_error(ctx, exc)
            _fail(InitReportError(_os_error_text(exc)))
        except Exception as exc:          # a bug: one line here, the whole traceback in a file
            broken = _broken_pool(exc)
            if broken:
                _fail(InitReportError(broken))
            _internal_error(ctx, exc)


def _broken_pool(exc: Exception) -> str | None:
    """The message for a worker process that died (killed, out of memory), or None."""
    from concurrent.futures.process import BrokenProcessPool
    if isinstance(exc, BrokenProcessPool):
        return ("a worker process died (killed by a signal, or by the system when out of memory); "
                "finished results are kept in the cache: rerun the build, with --jobs 1 if memory is short")
    return None


def _internal_error(ctx, exc: BaseException):
    if os.environ.get("INITREPORT_DEBUG"):
        raise exc
    log = _crash_log(exc)
    where = f"the traceback is in {log}" if log else "rerun with INITREPORT_DEBUG=1 for the traceback"
    kept = (" Finished results are kept in the cache; the previous site is intact."
            if ctx.invoked_subcommand == "build" else "")
    first = str(exc).splitlines()[0] if str(exc) else ""
    click.echo(terminal_safe(f"Error: internal error ({type(exc).__name__}: {first}). "
                             f"This is a bug in initreport; {where}.{kept}"), err=True)
    sys.exit(1)


def _interactive() -> bool:
    """Progress bars only for a person at a terminal (not in CI logs or pipes)."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def _asker(yes: bool, before=None):
    """What to do before a job estimated to be long: the ``ask`` of :func:`initreport.safety.check_budget`.

    With --yes, or without a terminal to ask at (CI, a pipe), say so on stderr and go on;
    at a terminal, ask (the default answer is no).
    """
    def ask(message: str) -> bool:
        if before is not None:
            before()
        if yes:
            click.echo(f"Note: {message}; starting it (--yes).", err=True)
            return True
        if sys.stdin.isatty() and sys.stderr.isatty():
            return click.confirm(f"{message}. Start it?", default=False, err=True)
        click.echo(f"Note: {message}; starting it without asking (no terminal; --yes silences this).", err=True)
        return True
    return ask


def _yes_option(f):
    return click.option("--yes", "-y", is_flag=True,
                        help="Start a job estimated to take over 10 minutes without asking.")(f)


def _crash_log(exc: BaseException) -> str | None:
    """Write the traceback of an unexpected error to a file in the temp folder; its path, or None."""
    import tempfile
    import traceback
    try:
        fd, path = tempfile.mkstemp(prefix="initreport-crash-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write(f"initreport {__version__}: {' '.join(sys.argv)}\n\n")
            f.write("".join(traceback.format_exception(exc)))
        return path
    except OSError:
        return None


@click.group(cls=_Group, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="initreport")
def main():
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


# --------------------------------------------------------------------------------------- run


def _positive_float(ctx, param, value):
    if value is None:
        return value
    if not math.isfinite(value) or value <= 0:
        raise click.BadParameter(f"must be a finite number > 0, got {value}")
    return value


@main.command(help="Run one ad-hoc experiment and print a summary table.")
@click.option("--init", "init", default="he_normal", show_default=True, help=INIT_HELP)
@click.option("--activation", default="relu", show_default=True,
              help="Hidden-layer activation: sigmoid, tanh, relu or leaky_relu.")
@click.option("--depth", default=3, show_default=True, type=click.IntRange(min=1), help="Number of hidden layers.")
@click.option("--width", default=64, show_default=True, type=click.IntRange(min=1), help="Units per hidden layer.")
@click.option("--epochs", default=20, show_default=True, type=click.IntRange(min=0), help="Passes over the training set.")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=1), help="Minibatch size.")
@click.option("--lr", default=0.01, show_default=True, type=float, callback=_positive_float, help="Learning rate.")
@click.option("--momentum", default=0.9, show_default=True, type=click.FloatRange(0, 1, max_open=True),
              help="SGD momentum (0 for plain SGD).")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(min=1),
              help="Number of seeds (0 … N−1), trained at once.")
@click.option("--dataset", default="digits", show_default=True, help=DATASET_HELP)
@click.option("--label-column", default=None, help="Label column of a CSV dataset (default: the last column).")
@click.option("--value", "init_value", type=float, default=None, help="Value of the `constant` initialiser.")
@click.option("--gain", type=float, default=None, help="Gain of `scaled_normal` / `orthogonal`.")
@click.option("--bias", type=float, default=None,
              help="Initial value of every bias  [default: the initialiser's own: 0, or the constant for `constant`].")
@click.option("--dtype", default="float32", show_default=True, type=click.Choice(["float32", "float64"]))
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Write the full result (JSON) to this file.")
@jobs_option
@_yes_option
def run(init, activation, depth, width, epochs, batch_size, lr, momentum, seeds, dataset, label_column,
        init_value, gain, bias, dtype, output, jobs, yes):
    from .cache import atomic_write, canonical_json
    from .datasets import load_dataset
    from .runner import estimate, make_config, run_stack
    from .safety import Plan, check_budget

    if output is not None:
        # Checked before training, so a bad path costs nothing.
        if output.is_dir():
            raise InitReportError(f"--output {output} is a directory; give a file name")
        if output.parent.exists() and not output.parent.is_dir():
            raise InitReportError(f"--output {output}: {output.parent} is a file, not a folder")
        if not output.parent.is_dir():
            raise InitReportError(f"--output {output}: the folder {output.parent} does not exist")
    params = {}
    if init_value is not None:
        params["value"] = init_value
    if gain is not None:
        params["gain"] = gain
    data = load_dataset(dataset, label_column=label_column) if label_column else load_dataset(dataset)
    # Validated and estimated with one seed first: a million seeds are refused before they exist.
    probe = make_config(init=init, activation=activation, dataset=dataset, depth=depth, width=width,
                        epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
                        seeds=(0,), init_params=params, bias=bias, dtype=dtype)
    threads = min(jobs or os.cpu_count() or 1, seeds)
    need = estimate([probe], data, threads=threads, members=seeds)
    check_budget(Plan(f"this run ({seeds} seeds, depth {depth} × width {width}, {epochs} epochs)",
                      need.bytes, need.seconds), _asker(yes))
    config = probe.with_(seeds=tuple(range(seeds)))
    start = time.perf_counter()
    bar = (click.progressbar(length=epochs, label=f"Training {seeds} seed(s), {epochs} epochs", show_eta=True,
                             show_pos=True, file=sys.stderr) if _interactive() and epochs > 0 else None)
    with bar or contextlib.nullcontext():
        # Without --output nothing shows the curves or the later checkpoints: evaluate at 0 and the
        # last epoch only, and take only the per-layer statistics the table prints.
        [result] = run_stack([config], dataset=data, threads=threads, history=output is not None,
                             diagnostics="all" if output is not None else "table",
                             on_epoch=(lambda _: bar.update(1)) if bar else None)
    seconds = time.perf_counter() - start
    click.echo(summary_table(result, terminal_safe(data.name)))
    click.echo(f"\n{seconds:.3f} s for {seeds} seed(s) trained together"
               f"{f' on {threads} threads' if threads > 1 else ''}.")
    if output:
        try:
            atomic_write(output, canonical_json(result) + "\n")
        except OSError as exc:
            raise InitReportError(f"cannot write {output}: {exc.strerror}") from None
        click.echo(f"Result written to {terminal_safe(output)}")


def summary_table(result: dict, dataset: str) -> str:
    from .fmt import num, pct, pm      # text target: 2.81×10⁻⁴ (fmt.parse reads it back)
    c = result["config"]
    lines = [f"{c['init']} · {c['activation']} · {dataset} · depth {c['depth']} × width {c['width']} · "
             f"{c['epochs']} epochs · lr {c['lr']} · {len(c['seeds'])} seeds", ""]
    head = f"{'layer':>5}  {'act. mean':>10}  {'act. std':>10}  {'grad std':>10}  {'saturated':>9}  {'dead':>7}"
    lines += ["At initialisation:", head]
    for layer in result["layers"]:
        lines.append(f"{layer['layer']:>5}  {num(layer['activation_mean']['mean']):>10}  "
                     f"{num(layer['activation_std']['mean']):>10}  {num(layer['gradient_std']['mean']):>10}  "
                     f"{pct(layer['saturated_fraction']['mean']):>9}  {pct(layer['dead_fraction']['mean']):>7}")
    f = result["final"]
    lines += ["", "After training (mean ± std over seeds):",
              f"  training loss  {pm(f['loss'])}",
              f"  train accuracy {pm(f['accuracy'], pct)}",
              f"  test accuracy  {pm(f['test_accuracy'], pct)}"]
    if result["diverged"]:
        lines.append("  diverged: " + ", ".join(f"seed {d['seed']} at epoch {d['epoch']}" for d in result["diverged"]))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------- list


@main.command("list", help="Show the initialisers (with formulas), activations, datasets and experiments.")
@profile_option
@project_dir_option
def list_(profile, project_dir):
    from .activations import ACTIVATIONS
    from .datasets import BUILTIN_DATASETS
    from .catalogue import build_catalogue
    from .initializers import INITIALIZERS
    from .settings import load_settings

    settings = load_settings(project_dir)
    prof = settings.profile(profile)

    click.secho("Initialisers", bold=True)
    for name, info in INITIALIZERS.items():
        click.echo(f"  {name:<26} {info.family:<9} {info.formula}")
    click.secho("\nActivations", bold=True)
    for name in ACTIVATIONS:
        click.echo(f"  {name}")
    click.secho("\nDatasets", bold=True)
    for name, info in BUILTIN_DATASETS.items():
        click.echo(f"  {name:<10} {info.n_samples} × {info.n_features}, {info.n_classes} classes. {info.description}")
    click.echo("  FILE.csv   your own: numeric feature columns and a label column (header row required)")
    click.secho("\nProfiles", bold=True)
    for name, p in settings.profiles.items():
        click.echo(f"  {name:<10} {p.description}")
    experiments = build_catalogue(prof)
    click.secho(f"\nExperiments ({len(experiments)}, profile {prof.name})", bold=True)
    for e in experiments:
        click.echo(f"  {e.id:<16} {e.title}  [{len(e.runs)} runs]")


# --------------------------------------------------------------------------------------- build


@main.command(help="Run the experiment catalogue (through the cache) and build the site.")
@click.option("--quick", is_flag=True, help=QUICK_HELP)
@profile_option
@click.option("--force", is_flag=True, help=CACHE_FORCE_HELP)
@jobs_option
@site_dir_option
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run the experiments on this Dask cluster (needs initreport[dask]); results are "
                   "cached here as they arrive  [default: build.scheduler in initreport.toml, else local].")
@_yes_option
@project_dir_option
def build(quick, profile, force, jobs, site_dir, scheduler, yes, project_dir):
    from .build import build as build_all, check_project
    from .settings import load_settings

    if quick and profile and profile != "quick":
        raise click.UsageError("--quick and --profile disagree; give one of them")
    check_project(project_dir.resolve())
    settings = load_settings(project_dir)          # validated once, before any work
    profile = "quick" if quick else (profile or settings.default_profile)
    settings.profile(profile)                      # an unknown profile fails now, not after the runs
    jobs = jobs or settings.jobs or os.cpu_count() or 1
    if scheduler is not None:
        from .executor import check_scheduler_address
        try:
            check_scheduler_address(scheduler)
        except InitReportError as exc:
            raise click.BadParameter(str(exc), param_hint="--scheduler") from None
    with BuildProgress(_interactive()) as progress:
        report = build_all(project_dir, profile=profile, force=force, jobs=jobs, site_dir=site_dir,
                           on_event=progress, settings=settings, ask=_asker(yes, progress._close_bar),
                           scheduler=scheduler or settings.scheduler)
    click.echo(build_summary(report))


class BuildProgress:
    """Renders a build's events: a bar over the runs at a terminal, one plain line per stage otherwise."""

    STAGE_LINES = {"runs": "Running {detail}", "figures": "Rendering figures", "pages": "Writing pages",
                   "site": "Building the site"}

    def __init__(self, interactive: bool):
        self.interactive = interactive
        self.bar = None
        self.cached = self.ran = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._close_bar()
        return False

    def _close_bar(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __call__(self, event) -> None:
        from . import events

        if isinstance(event, events.StageStarted):
            self._close_bar()
            line = self.STAGE_LINES[event.stage].format(detail=event.detail)
            if event.stage == "runs" and self.interactive:
                self.bar = click.progressbar(length=event.total, label=line, show_eta=True, show_pos=True,
                                             file=sys.stderr, item_show_func=self._counts)
                self.bar.__enter__()
            elif self.interactive or event.stage == "runs":
                click.echo(line, err=True)
        elif isinstance(event, events.RunsResolved):
            self.cached = event.cached
            if self.bar is not None and event.cached:
                self.bar.update(event.cached, current_item=True)
        elif isinstance(event, events.RunFinished):
            self.ran += event.runs
            if self.bar is not None:
                self.bar.update(event.runs, current_item=True)

    def _counts(self, _item) -> str:
        return f"{self.cached} cached, {self.ran} run"


def build_summary(report) -> str:
    """The build's closing lines: counts of runs, figures and verdicts, and where the site is."""
    r = report.runs
    diverged = f", {r.diverged_runs} with diverged seeds" if r.diverged_runs else ""
    discarded = f", {r.discarded} corrupt cache entries discarded" if r.discarded else ""
    statuses = [v.status for v in report.verdicts.values()]
    return (
        f"Built {report.pages} pages in {report.seconds:.1f} s (profile {report.profile}): "
        f"{r.total} runs, {r.ran} run, {r.cached} cached{diverged}{discarded}; "
        f"figures {report.figures_rendered} rendered, {report.figures_reused} reused.\n"
        f"Verdicts: {statuses.count('confirmed')} confirmed, {statuses.count('partly confirmed')} partly confirmed, "
        f"{statuses.count('refuted')} refuted"
        + (f", {statuses.count('inconclusive')} inconclusive" if "inconclusive" in statuses else "") + ".\n"
        f"Site: {report.site_dir}  (open {report.site_dir / 'index.html'} in a browser, or run `initreport serve`)")


@main.command(help="Live preview of the site (rebuilds pages on change; does not rerun experiments).")
@click.option("--dev-addr", default="127.0.0.1:8000", show_default=True, help="Address to serve on.")
@project_dir_option
def serve(dev_addr, project_dir):
    from .build import check_project
    from .site import serve as serve_site

    project_dir = project_dir.resolve()
    check_project(project_dir)
    if not (project_dir / "docs" / "index.md").exists():
        raise InitReportError(f"no pages in {project_dir / 'docs'} yet; run `initreport build` (or --quick) first")
    serve_site(project_dir, dev_addr=dev_addr)


@main.command(help="Publish the built site to a site-only branch of a git remote (like `mkdocs gh-deploy`).")
@click.option("--remote", default="origin", show_default=True, help="Git remote to push to.")
@click.option("--branch", default="gh-pages", show_default=True,
              help="Branch that holds the site; refused if it holds anything but site commits.")
@click.option("--message", "-m", default=None, help="Commit message.")
@click.option("--allow-dirty", is_flag=True, help="Publish even if the working tree has uncommitted changes.")
@click.option("--force", is_flag=True, help=PUSH_FORCE_HELP)
@site_dir_option
@project_dir_option
def publish(remote, branch, message, allow_dirty, force, site_dir, project_dir):
    from .publish import publish as publish_site
    project_dir = project_dir.resolve()
    summary = publish_site(project_dir, site_dir or project_dir / "site", remote=remote, branch=branch,
                           message=message, allow_dirty=allow_dirty, force=force)
    click.echo(summary)


if __name__ == "__main__":  # pragma: no cover
    main()
