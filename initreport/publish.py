"""`initreport publish`: commit a built site to a site-only branch and push it.

Like ``mkdocs gh-deploy`` without rebuilding, but it can never push onto a branch that holds
source code, whatever HEAD is (a branch, a detached commit, or the target branch itself).

**Site commits.** Every commit ``publish`` makes carries the trailer ``Initreport-Site: yes``
in its message, and its tree is exactly the built site plus ``.nojekyll``. Before anything is
written, the target branch, locally and on the remote, must hold only site commits: a commit
with that trailer, or (for branches made before, by ``mkdocs gh-deploy`` or an older
initreport) one whose tree is a built MkDocs site (``sitemap.xml`` or ``search/search_index.json``
at its root) and holds no ``mkdocs.yml``. Publishing is refused, with the reason in one line,
when the branch is checked out (here or in another worktree), when any of its commits is not a
site commit, or when its tip holds this project's source tree.

**Nothing moves until the push succeeded.** The commit is made with git plumbing (a temporary
index, ``write-tree``, ``commit-tree``), pushed by its object id to ``refs/heads/<branch>`` on
the remote (fast-forward only, or ``--force-with-lease`` on the fetched tip with ``force``), and
only then is the local branch updated. No other ref, no working tree and no index is touched.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from . import __version__
from .errors import InitReportError
from .site import _is_within, _one_line

TRAILER = "Initreport-Site: yes"
_SITE_MARKERS = ("sitemap.xml", "search/search_index.json")


def _git(cwd: Path, *args: str, check: bool = False, env: dict | None = None,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, input=stdin,
                              stdin=None if stdin is not None else subprocess.DEVNULL,
                              env=None if env is None else {**os.environ, **env})
    except FileNotFoundError as exc:
        raise InitReportError("git is not installed or not on PATH") from exc
    if check and proc.returncode != 0:
        raise InitReportError(f"git {args[0]} failed: {_last_line(proc.stderr or proc.stdout)}")
    return proc


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:  # prefer git's own diagnosis
        if ln.startswith(("fatal:", "error:", "! [rejected]", "! [remote rejected]")):
            return _one_line(ln)
    return _one_line(lines[-1]) if lines else "no output"


def _redact(url: str) -> str:
    return re.sub(r"//[^/@\s]+@", "//", url)


def _dirty_paths(top: Path, ignore: Path | None) -> list[str]:
    """Changed tracked files and untracked, not-ignored files, except those under ``ignore``."""
    proc = _git(top, "status", "--porcelain=v1", "-z", "--untracked-files=all", check=True)
    entries = proc.stdout.split("\0")
    paths: list[str] = []
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        if "R" in status or "C" in status:
            i += 1  # the rename/copy source follows as its own entry
        if ignore is not None and _is_within((top / path).resolve(), ignore):
            continue
        paths.append(path)
    return paths


def _local_tip(top: Path, branch: str) -> str | None:
    """The local branch's commit, by its exact ref name (no abbreviation rules), or None."""
    out = _git(top, "show-ref", "--verify", "--hash", f"refs/heads/{branch}").stdout.strip()
    return out or None


def _ambiguous(branch: str) -> tuple[str, ...]:
    """Refs that git's abbreviation rules could take for ``refs/heads/<branch>`` when that does not exist."""
    full = f"refs/heads/{branch}"
    return (f"refs/{full}", f"refs/tags/{full}", f"refs/heads/{full}", f"refs/remotes/{full}",
            f"refs/remotes/{full}/HEAD")


def _checked_out_branches(top: Path) -> set[str]:
    """Branches checked out in this repository's worktrees (HEAD's branch included)."""
    proc = _git(top, "worktree", "list", "--porcelain")
    names = {ln[len("branch refs/heads/"):] for ln in proc.stdout.splitlines() if ln.startswith("branch refs/heads/")}
    head = _git(top, "symbolic-ref", "--quiet", "--short", "HEAD").stdout.strip()
    return names | ({head} if head else set())


def _not_site_commits(top: Path, tips: list[str]) -> list[tuple[str, str]]:
    """(sha, subject) of every commit reachable from ``tips`` that is not a site commit."""
    log = _git(top, "log", "--format=%H%x00%s%x00%B%x01", *tips, "--", check=True).stdout
    unmarked = []
    for record in log.split("\x01"):
        record = record.strip("\n")
        if not record:
            continue
        sha, subject, body = record.split("\x00", 2)
        if TRAILER not in body.splitlines():
            unmarked.append((sha, subject))
    if not unmarked:
        return []
    # An unmarked commit still counts when its tree is a built site without MkDocs sources.
    queries = "".join(f"{sha}:{path}\n" for sha, _ in unmarked for path in (*_SITE_MARKERS, "mkdocs.yml"))
    answers = _git(top, "cat-file", "--batch-check", stdin=queries, check=True).stdout.splitlines()
    per = len(_SITE_MARKERS) + 1
    bad = []
    for i, (sha, subject) in enumerate(unmarked):
        found = [not a.endswith(" missing") for a in answers[i * per:(i + 1) * per]]
        if not any(found[:-1]) or found[-1]:
            bad.append((sha, subject))
    return bad


def _check_target(top: Path, branch: str, tips: list[str], project_dir: Path) -> None:
    """Refuse a branch that holds anything but site commits (one line saying why)."""
    if branch in _checked_out_branches(top):
        raise InitReportError(f"refusing to publish onto {branch!r}: it is checked out; "
                              "the site goes to a branch of its own, such as gh-pages")
    if not tips:
        return
    bad = _not_site_commits(top, tips)
    if bad:
        sha, subject = bad[0]
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        raise InitReportError(
            f"refusing to publish onto {branch!r}: it holds commits that are not site commits "
            f"({sha[:12]} {subject!r}{more}); pick a branch that holds only the site, such as gh-pages")
    config = (project_dir / "mkdocs.yml").relative_to(top).as_posix() if _is_within(project_dir, top) else None
    for tip in tips:
        if config and _git(top, "cat-file", "-e", f"{tip}:{config}").returncode == 0:
            raise InitReportError(f"refusing to publish onto {branch!r}: it holds the project's source "
                                  f"({config}); pick a branch that holds only the site, such as gh-pages")


def _site_tree(top: Path, site_dir: Path) -> str:
    """The tree object of ``site_dir`` plus an empty ``.nojekyll``, via a temporary index."""
    git_dir = _git(top, "rev-parse", "--absolute-git-dir", check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="initreport-publish-") as tmp:
        env = {"GIT_DIR": git_dir, "GIT_INDEX_FILE": str(Path(tmp) / "index"), "GIT_WORK_TREE": str(site_dir)}
        _git(site_dir, "add", "--all", "--force", ".", env=env, check=True)
        empty = _git(top, "hash-object", "-w", "--stdin", stdin="", check=True).stdout.strip()
        _git(top, "update-index", "--add", "--cacheinfo", f"100644,{empty},.nojekyll", env=env, check=True)
        return _git(top, "write-tree", env=env, check=True).stdout.strip()


def _check_inputs(project_dir: Path, site_dir: Path) -> Path:
    """The repository's top folder, after checking the project, the site and the repository."""
    if not project_dir.is_dir():
        raise InitReportError(f"project directory {project_dir} does not exist")
    proc = _git(project_dir, "rev-parse", "--show-toplevel")
    if proc.returncode != 0:
        raise InitReportError(f"{project_dir} is not inside a git repository; run git init and commit first")
    top = Path(proc.stdout.strip()).resolve()
    if not site_dir.is_dir():
        raise InitReportError(f"site directory {site_dir} does not exist; build the site first")
    if not any(site_dir.iterdir()):
        raise InitReportError(f"site directory {site_dir} is empty; build the site first")
    if (site_dir / ".git").exists() or _is_within(top, site_dir):
        raise InitReportError(f"site directory {site_dir} is (or contains) the git repository itself")
    return top


def publish(project_dir: Path, site_dir: Path, *, remote: str = "origin", branch: str = "gh-pages",
            message: str | None = None, allow_dirty: bool = False, force: bool = False) -> str:
    """Commit the built ``site_dir`` (plus ``.nojekyll``) to ``branch`` and push it to ``remote``.

    The new commit continues the remote branch's history (or, with ``force``, starts a new one
    and force-pushes it, leased on the fetched tip). The project's working tree must be clean
    unless ``allow_dirty`` (files inside ``site_dir`` and ignored files never count). Returns a
    one-line summary naming branch, commit and remote. See the module docstring for the refusals.
    """
    project_dir = Path(project_dir).resolve()
    site_dir = Path(site_dir)
    site_dir = (site_dir if site_dir.is_absolute() else project_dir / site_dir).resolve()
    top = _check_inputs(project_dir, site_dir)
    if _git(top, "check-ref-format", "--branch", branch).returncode != 0 or branch.startswith("-"):
        raise InitReportError(f"{branch!r} is not a valid branch name")
    if branch.startswith("refs/"):
        raise InitReportError(f"give the branch's short name, not a ref ({branch!r})")
    proc = _git(top, "remote", "get-url", remote)
    if proc.returncode != 0:
        raise InitReportError(
            f"git remote {remote!r} is not configured in {top}; add it with: git remote add {remote} <url>")
    remote_url = proc.stdout.strip()
    if not allow_dirty:
        dirty = _dirty_paths(top, site_dir)
        if dirty:
            shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
            raise InitReportError(f"working tree of {top} has uncommitted changes ({shown}); "
                                  "commit them or pass --allow-dirty")
    for key, env in (("user.name", "GIT_COMMITTER_NAME"), ("user.email", "GIT_COMMITTER_EMAIL")):
        if not os.environ.get(env) and not _git(top, "config", key).stdout.strip():
            raise InitReportError(f"git {key} is not set; run: git config {key} <value>")

    remote_tip = _fetch(top, remote, branch)
    local_tip = _local_tip(top, branch)
    _check_target(top, branch, [t for t in dict.fromkeys((local_tip, remote_tip)) if t], project_dir)

    head = _git(top, "rev-parse", "--short=12", "HEAD").stdout.strip() or "an unborn branch"
    text = message if message is not None else f"Publish site built from {head} with initreport {__version__}"
    parent = None if force else (remote_tip or local_tip)
    tree = _site_tree(top, site_dir)
    commit = _git(top, "commit-tree", tree, *(["-p", parent] if parent else []),
                  "-m", text, "-m", TRAILER, check=True).stdout.strip()

    push = ["push", "--porcelain", remote, f"{commit}:refs/heads/{branch}"]
    if force:
        push.insert(1, f"--force-with-lease=refs/heads/{branch}:{remote_tip or ''}")
    proc = _git(top, *push)
    if proc.returncode != 0:
        output = proc.stderr + proc.stdout
        rejected = "[rejected]" in output or "non-fast-forward" in output or "stale info" in output
        hint = " (the remote branch changed meanwhile; publish again)" if rejected else ""
        raise InitReportError(f"pushing {branch!r} to {remote!r} failed: {_last_line(output)}{hint}")
    if f":refs/heads/{branch}\t" not in proc.stdout:      # git --porcelain names the ref it updated
        raise InitReportError(f"pushing {branch!r} to {remote!r}: git reported no update of refs/heads/{branch}")
    # Compare-and-swap: the local branch moves only from the tip that was checked (or is created).
    _git(top, "update-ref", "-m", "initreport publish", f"refs/heads/{branch}", commit, local_tip or "", check=True)
    _git(top, "update-ref", f"refs/remotes/{remote}/{branch}", commit)
    return f"published {site_dir} to branch {branch} at {commit[:12]} on remote {remote} ({_redact(remote_url)})"


def _fetch(top: Path, remote: str, branch: str) -> str | None:
    """The remote branch's tip, its commits fetched so they can be checked, or None if it does not exist.

    Refs are matched by their exact names; a remote ref that git could confuse with the branch is
    refused. The fetch writes no ref (no remote-tracking branch, no FETCH_HEAD), so a refused
    publish moves nothing.
    """
    listing = _git(top, "ls-remote", remote)
    if listing.returncode != 0:
        raise InitReportError(f"cannot reach git remote {remote!r}: {_last_line(listing.stderr)}")
    refs = {ref: sha for sha, ref in (ln.split("\t", 1) for ln in listing.stdout.splitlines() if "\t" in ln)}
    confusable = [ref for ref in _ambiguous(branch) if ref in refs]
    if confusable:
        raise InitReportError(f"refusing to publish onto {branch!r}: remote {remote!r} has a ref git could "
                              f"confuse with it ({confusable[0]}); remove that ref or pick another branch")
    tip = refs.get(f"refs/heads/{branch}")
    if tip is None:
        return None
    _git(top, "fetch", "--quiet", "--no-tags", "--refmap=", "--no-write-fetch-head", remote,
         f"refs/heads/{branch}", check=True)
    if _git(top, "cat-file", "-e", f"{tip}^{{commit}}").returncode != 0:
        raise InitReportError(f"could not fetch {branch!r} from {remote!r} (it moved meanwhile?); publish again")
    return tip
