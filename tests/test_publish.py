"""initreport.publish: commit a built site to a site-only branch and push it; never onto source."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from initreport.errors import InitReportError
from initreport.publish import TRAILER, publish


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture()
def repo(tmp_path: Path) -> dict[str, Path]:
    """A project repo with one commit, a bare 'origin', and a fake built site (ignored)."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--bare", "-q", str(origin))
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.name", "Test Publisher")
    git(project, "config", "user.email", "publisher@example.invalid")
    git(project, "config", "commit.gpgsign", "false")
    (project / "README.md").write_text("project\n")
    (project / ".gitignore").write_text("/site/\n")
    git(project, "add", "README.md", ".gitignore")
    git(project, "commit", "-q", "-m", "initial")
    git(project, "remote", "add", "origin", str(origin))
    site = project / "site"
    (site / "sub").mkdir(parents=True)
    (site / "index.html").write_text("<!doctype html><title>t</title>hello\n")
    (site / "sitemap.xml").write_text("<urlset/>\n")
    (site / "sub" / "page.html").write_text("<p>sub</p>\n")
    return {"project": project, "origin": origin, "site": site}


def tree(bare: Path, ref: str) -> set[str]:
    return set(git(bare, "ls-tree", "-r", "--name-only", ref).splitlines())


def test_publish_pushes_exactly_the_site(repo):
    summary = publish(repo["project"], repo["site"])
    files = tree(repo["origin"], "refs/heads/gh-pages")
    assert files == {"index.html", "sitemap.xml", "sub/page.html", ".nojekyll"}
    sha = git(repo["origin"], "rev-parse", "refs/heads/gh-pages")
    assert "\n" not in summary
    assert "gh-pages" in summary and "origin" in summary and sha[:12] in summary
    # the source branch is untouched and was not pushed
    assert git(repo["origin"], "for-each-ref", "--format=%(refname)") == "refs/heads/gh-pages"
    assert git(repo["project"], "symbolic-ref", "--short", "HEAD") == "main"
    head = git(repo["project"], "rev-parse", "--short=12", "HEAD")
    assert head in git(repo["origin"], "log", "-1", "--format=%s", "refs/heads/gh-pages")


def test_republish_continues_history_and_drops_removed_files(repo):
    publish(repo["project"], repo["site"], message="first")
    (repo["site"] / "sub" / "page.html").unlink()
    (repo["site"] / "new.html").write_text("new\n")
    publish(repo["project"], repo["site"], message="second")
    assert tree(repo["origin"], "gh-pages") == {"index.html", "sitemap.xml", "new.html", ".nojekyll"}
    log = git(repo["origin"], "log", "--format=%s", "gh-pages").splitlines()
    assert log == ["second", "first"]


def test_dirty_tree_refused_unless_allowed(repo):
    (repo["project"] / "README.md").write_text("changed\n")
    with pytest.raises(InitReportError, match="uncommitted changes.*README.md") as info:
        publish(repo["project"], repo["site"])
    assert "\n" not in str(info.value)
    assert git(repo["origin"], "for-each-ref") == ""  # nothing pushed
    publish(repo["project"], repo["site"], allow_dirty=True)
    assert ".nojekyll" in tree(repo["origin"], "gh-pages")


def test_untracked_file_is_dirty_but_site_dir_is_not(repo):
    # make site/ visible to git status (not ignored): its own files must still not count
    (repo["project"] / ".gitignore").write_text("")
    git(repo["project"], "commit", "-q", "-am", "track nothing ignored")
    publish(repo["project"], repo["site"])
    (repo["project"] / "notes.txt").write_text("scratch\n")
    with pytest.raises(InitReportError, match="notes.txt"):
        publish(repo["project"], repo["site"])


def test_missing_remote_refused(repo):
    with pytest.raises(InitReportError, match="remote 'upstream' is not configured"):
        publish(repo["project"], repo["site"], remote="upstream")


def test_not_a_git_repo_refused(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("x")
    with pytest.raises(InitReportError, match="not inside a git repository"):
        publish(tmp_path, site)


def test_missing_or_empty_site_refused(repo):
    with pytest.raises(InitReportError, match="does not exist"):
        publish(repo["project"], repo["project"] / "nosite")
    empty = repo["project"] / "empty-site"
    empty.mkdir()
    (repo["project"] / ".gitignore").write_text("/site/\n/empty-site/\n")
    with pytest.raises(InitReportError, match="is empty"):
        publish(repo["project"], empty, allow_dirty=True)


def _commit_elsewhere(tmp_path, origin, files: dict, message: str, branch: str = "gh-pages") -> None:
    """Someone else pushes one commit holding ``files`` onto ``branch`` of ``origin``."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "tmp")
    git(other, "config", "user.name", "Other")
    git(other, "config", "user.email", "other@example.invalid")
    git(other, "remote", "add", "origin", str(origin))
    if git(origin, "for-each-ref", f"refs/heads/{branch}"):
        git(other, "fetch", "-q", "origin", branch)
        git(other, "reset", "-q", "--hard", "FETCH_HEAD")
    for name, text in files.items():
        (other / name).parent.mkdir(parents=True, exist_ok=True)
        (other / name).write_text(text)
    git(other, "add", "-A")
    git(other, "commit", "-q", "-m", message)
    git(other, "push", "-q", "--force", "origin", f"tmp:{branch}")


def test_remote_site_commits_are_built_upon_and_force_starts_a_new_history(repo, tmp_path):
    publish(repo["project"], repo["site"], message="first")
    # a site pushed meanwhile by `mkdocs gh-deploy` (no trailer, but a built site's tree) is built upon
    _commit_elsewhere(tmp_path, repo["origin"], {"sitemap.xml": "<urlset/>", "index.html": "other"}, "gh-deploy")
    publish(repo["project"], repo["site"], message="after other")
    assert git(repo["origin"], "log", "--format=%s", "gh-pages").splitlines() == ["after other", "gh-deploy", "first"]
    # force replaces the history with a single commit
    publish(repo["project"], repo["site"], message="forced", force=True)
    assert git(repo["origin"], "log", "--format=%s", "gh-pages").splitlines() == ["forced"]
    assert tree(repo["origin"], "gh-pages") == {"index.html", "sitemap.xml", "sub/page.html", ".nojekyll"}
    assert git(repo["project"], "rev-parse", "gh-pages") == git(repo["origin"], "rev-parse", "gh-pages")


def test_every_published_commit_is_marked_and_the_source_branch_never_moves(repo):
    main = git(repo["project"], "rev-parse", "main")
    for _ in range(2):
        publish(repo["project"], repo["site"])
    bodies = git(repo["origin"], "log", "--format=%B%x00", "gh-pages").split("\0")
    assert sum(TRAILER in b.splitlines() for b in bodies) == 2
    assert git(repo["project"], "rev-parse", "main") == main
    assert git(repo["project"], "status", "--porcelain") == ""


def refs(repo) -> tuple[str, str, str]:
    """Every ref of the project and of the remote, and the project's HEAD."""
    return (git(repo["project"], "for-each-ref", "--format=%(refname) %(objectname)"),
            git(repo["origin"], "for-each-ref", "--format=%(refname) %(objectname)"),
            git(repo["project"], "rev-parse", "HEAD"))


@pytest.mark.parametrize("remote_has_main", [True, False])
def test_detached_head_onto_the_source_branch_refuses_and_moves_nothing(repo, remote_has_main, tmp_path):
    if remote_has_main:
        git(repo["project"], "push", "-q", "origin", "main")
        # the remote's main moves on, so a fetch into the tracking branch would show as a moved ref
        _commit_elsewhere(tmp_path, repo["origin"], {"README.md": "changed elsewhere\n"}, "elsewhere", "main")
    publish(repo["project"], repo["site"])                    # a gh-pages branch exists too
    git(repo["project"], "checkout", "-q", "--detach", "HEAD")  # as CI does for tags and pull requests
    before = refs(repo)
    with pytest.raises(InitReportError, match=r"refusing to publish onto 'main': it holds commits that are not site "
                       r"commits \([0-9a-f]{12} '(initial|elsewhere)'") as info:
        publish(repo["project"], repo["site"], branch="main")
    assert "\n" not in str(info.value)
    with pytest.raises(InitReportError, match="not site commits"):
        publish(repo["project"], repo["site"], branch="main", force=True)   # force changes nothing here
    assert refs(repo) == before


def test_the_checked_out_branch_is_refused_here_and_in_another_worktree(repo, tmp_path):
    before = refs(repo)
    with pytest.raises(InitReportError, match="refusing to publish onto 'main': it is checked out"):
        publish(repo["project"], repo["site"], branch="main")
    publish(repo["project"], repo["site"])
    git(repo["project"], "worktree", "add", "-q", str(tmp_path / "wt"), "gh-pages")
    with pytest.raises(InitReportError, match="'gh-pages': it is checked out"):
        publish(repo["project"], repo["site"])
    assert refs(repo)[1] == git(repo["origin"], "for-each-ref", "--format=%(refname) %(objectname)")


def test_a_branch_holding_the_source_is_refused_even_when_marked(repo, tmp_path):
    (repo["project"] / "mkdocs.yml").write_text("site_name: x\n")
    git(repo["project"], "add", "mkdocs.yml")
    git(repo["project"], "commit", "-q", "-m", "config", "-m", TRAILER)   # a copied trailer
    git(repo["project"], "push", "-q", "origin", "main:pages")
    git(repo["project"], "checkout", "-q", "--detach")
    before = refs(repo)
    with pytest.raises(InitReportError, match="refusing to publish onto 'pages'"):
        publish(repo["project"], repo["site"], branch="pages")
    assert refs(repo) == before


def test_names_git_could_take_for_another_ref_are_refused(repo):
    git(repo["project"], "checkout", "-q", "--detach")
    git(repo["project"], "push", "-q", "origin", "main:refs/heads/refs/heads/main")   # a confusable ref
    before = refs(repo)
    with pytest.raises(InitReportError, match="short name"):
        publish(repo["project"], repo["site"], branch="refs/heads/main")
    assert refs(repo) == before
    git(repo["project"], "branch", "-q", "-D", "main")       # no local main: only the remote is checked
    before = refs(repo)
    with pytest.raises(InitReportError, match="could confuse with it"):
        publish(repo["project"], repo["site"], branch="main")
    for bad in ("HEAD", "-x", "main~1", "a..b"):
        with pytest.raises(InitReportError, match="not a valid branch name"):
            publish(repo["project"], repo["site"], branch=bad)
    assert refs(repo) == before


def test_cli_refusal_is_one_line(repo, monkeypatch):
    from click.testing import CliRunner

    from initreport.cli import main

    git(repo["project"], "checkout", "-q", "--detach")
    before = refs(repo)
    monkeypatch.chdir(repo["project"])
    res = CliRunner().invoke(main, ["publish", "--branch", "main"])
    assert res.exit_code == 1
    assert res.output.startswith("Error: refusing to publish onto 'main'") and res.output.count("\n") == 1
    assert refs(repo) == before


# --- build_site: atomic replacement and one-line errors (the site that publish() pushes) ----

import shutil  # noqa: E402

from initreport.site import build_site, looks_like_site  # noqa: E402

from conftest import NAV_PAGES, PROJECT_STATIC_DIRS, REPO  # noqa: E402


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    shutil.copytree(REPO / "docs" / "assets", proj / "docs" / "assets")
    shutil.copy2(REPO / "mkdocs.yml", proj / "mkdocs.yml")
    for static in PROJECT_STATIC_DIRS:
        shutil.copytree(REPO / static, proj / static)
    for rel in NAV_PAGES:
        page = proj / "docs" / rel
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"# {rel}\n\nText with $x^2$.\n", encoding="utf-8")
    return proj


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_build_site_builds_and_replaces_previous_site(project):
    site = build_site(project)
    assert site == project / "site" and looks_like_site(site)
    assert (site / "index.html").is_file() and (site / "assets" / "iframe-worker-shim.js").is_file()
    assert "https://unpkg.com" not in (site / "index.html").read_text(encoding="utf-8")
    (site / "stale.html").write_text("old")
    (project / "docs" / "claims.md").write_text("# Claims\n\nnew text\n", encoding="utf-8")
    build_site(project)
    assert not (site / "stale.html").exists()
    assert "new text" in (site / "claims.html").read_text(encoding="utf-8")
    assert _siblings(site) == sorted(["docs", "mkdocs.yml", "site", *PROJECT_STATIC_DIRS])  # no temp or backup dirs left


def test_failed_build_keeps_previous_site(project):
    site = build_site(project)
    before = (site / "training.html").read_bytes()
    (project / "docs" / "training.md").write_text("# T\n\nBad $x^$ here.\n", encoding="utf-8")
    with pytest.raises(InitReportError) as info:
        build_site(project)
    message = str(info.value)
    assert "training.md" in message and "$x^$" in message and "\n" not in message
    assert (site / "training.html").read_bytes() == before
    assert _siblings(site) == sorted(["docs", "mkdocs.yml", "site", *PROJECT_STATIC_DIRS])


def test_strict_warning_fails_build(project):
    (project / "docs" / "index.md").write_text("# Home\n\n[gone](nowhere.md)\n", encoding="utf-8")
    with pytest.raises(InitReportError, match="strict.*nowhere.md"):
        build_site(project)
    assert not (project / "site").exists()
    assert build_site(project, strict=False).is_dir()


def test_refuses_to_replace_a_directory_that_is_not_a_site(project, tmp_path):
    other = tmp_path / "precious"
    other.mkdir()
    (other / "thesis.tex").write_text("keep me")
    with pytest.raises(InitReportError, match="does not look like a MkDocs site"):
        build_site(project, other)
    assert (other / "thesis.tex").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious", "proj"]


def test_missing_mkdocs_yml(tmp_path):
    with pytest.raises(InitReportError, match="no mkdocs.yml"):
        build_site(tmp_path)
