"""initreport.site.publish: ghp-import a built site to a gh-pages branch and push it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from initreport.errors import InitReportError
from initreport.site import publish


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


def test_remote_changes_are_built_upon_and_force_overwrites(repo, tmp_path):
    publish(repo["project"], repo["site"])
    # someone else force-pushes an unrelated gh-pages commit
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "tmp")
    git(other, "config", "user.name", "Other")
    git(other, "config", "user.email", "other@example.invalid")
    git(other, "remote", "add", "origin", str(repo["origin"]))
    (other / "x.txt").write_text("x")
    git(other, "add", "x.txt")
    git(other, "commit", "-q", "-m", "unrelated")
    git(other, "push", "-q", "--force", "origin", "tmp:gh-pages")
    # a fresh publish builds on the fetched remote branch, so it still fast-forwards
    summary = publish(repo["project"], repo["site"], message="after other")
    assert "gh-pages" in summary
    assert git(repo["origin"], "log", "--format=%s", "gh-pages").splitlines()[:2] == ["after other", "unrelated"]
    # force replaces the history with a single commit on top of nothing from the remote
    publish(repo["project"], repo["site"], message="forced", force=True)
    assert tree(repo["origin"], "gh-pages") == {"index.html", "sitemap.xml", "sub/page.html", ".nojekyll"}


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
