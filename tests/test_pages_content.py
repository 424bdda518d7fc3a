"""What a reader sees on the pages: the answer first, the settings per run, display names, sources,
the cheat sheet and the teachers' exercises (numbers from the results), on the real quick build."""

from __future__ import annotations

import html
import re

import pytest

from initreport import fmt
from initreport.build import CACHE_DIR
from initreport.cache import ResultCache
from initreport.catalogue import ExpId, Run, build_catalogue, catalogue_configs
from initreport.pages.views import cite, run_title
from initreport.runner import make_config


@pytest.fixture(scope="module")
def built(quick_project):
    from initreport.build import run_catalogue

    project, _ = quick_project
    from initreport.build import resolve_catalogue
    from initreport.catalogue import get_profile
    exps, _, first = resolve_catalogue(get_profile("quick"), ResultCache(project / CACHE_DIR))
    results, stats = run_catalogue(catalogue_configs(exps), ResultCache(project / CACHE_DIR))
    assert stats.ran == 0 and first.ran == 0
    docs = {p.relative_to(project / "docs").as_posix(): p.read_text(encoding="utf-8")
            for p in (project / "docs").rglob("*.md")}
    return exps, results, docs


def _sections(text: str) -> dict[str, str]:
    """{experiment id: its section's Markdown} for every '## title { #id }' heading."""
    parts = re.split(r"^#{2,3} .*\{ #([a-z0-9-]+) \}\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_claim_opens_with_its_answer_and_folds_the_rule(built):
    exps, _, docs = built
    for e in exps:
        if e.id == ExpId.CONCLUSION:        # the bottom line of Choosing an initialiser: its own block
            continue
        section = _sections(docs[e.page + ".md"]).get(e.id)
        assert section is not None, f"{e.id}: no section on {e.page}"
        first = next(line for line in section.splitlines() if line.strip())
        assert first.startswith("!!! ") and re.match(r'!!! \w+ "(Yes|Partly|No|Undecided):', first), (e.id, first)
        lines = [line for line in section.splitlines() if line.strip()]
        answer_body = lines[1]
        assert "The number behind it:" in answer_body and re.search(r"\d", answer_body), e.id
        assert '??? note "How this was decided"' in section, e.id
        # the folded verdict comes after the answer, never before it
        assert section.index("The number behind it") < section.index("How this was decided"), e.id


def test_every_claim_lists_each_runs_settings(built):
    exps, _, docs = built
    for e in exps:
        if e.id == ExpId.CONCLUSION:
            continue
        section = _sections(docs[e.page + ".md"])[e.id]
        n = len(e.runs)
        title = f'Settings of each run ({n} run{"s" if n != 1 else ""})'
        assert title in section, e.id
        folded = section.split(title, 1)[1].split("</div>", 1)[0]
        table = [line for line in folded.splitlines() if line.startswith("    | ") and "|---" not in line]
        assert len(table) == n + 1, e.id                 # header + one row per run
        for run, row in zip(e.runs, table[1:]):
            c = run.config
            cells = [x.strip() for x in row.strip().strip("|").split("|")]
            assert cells[4:10] == [str(c.depth), str(c.width), str(c.epochs), str(c.batch_size), fmt.num(c.lr),
                                   fmt.num(c.momentum)], e.id
            assert cells[10] == ", ".join(map(str, c.seeds)), e.id


def test_run_names_come_from_the_configuration_not_the_label():
    cfg = make_config(init="he_normal", activation="leaky_relu", depth=3, width=8, epochs=1, seeds=(0,))
    narrow = make_config(init="he_normal", activation="leaky_relu", depth=3, width=1, epochs=1, seeds=(0,))
    from initreport.catalogue.model import Experiment

    exp = Experiment(id="x", title="t", claim="c", source="s", page="p", measure="m", rule="frozen",
                     runs=(Run("subject", cfg, "zzz_opaque"), Run("narrow", narrow, "yyy")))
    assert run_title(exp, exp.runs[0]) == "He normal, leaky ReLU, width 8"
    assert run_title(exp, exp.runs[1]) == "He normal, leaky ReLU, width 1"


def test_results_tables_name_initialisers_by_display_name(built):
    _, _, docs = built
    for page, text in docs.items():
        for line in text.splitlines():
            if line.startswith("| ") and ("±" in line or "diverged" in line):
                first_cell = line.split("|")[1]
                assert "_" not in first_cell, (page, line)


def test_the_lecture_notes_are_cited_one_way():
    assert cite("Part 1, §4A; part 2, §2") == (
        "[the lecture notes](sources.md#the-lecture-notes), part 1 §4A; part 2 §2")
    assert cite("He et al. 2015, Fig. 3; part 2, §6", "../") == (
        "He et al. 2015, Fig. 3; [the lecture notes](../sources.md#the-lecture-notes), part 2 §6")


def test_no_source_cites_an_internal_file():
    for profile in ("default", "quick"):
        for e in build_catalogue(profile):
            assert not re.search(r"\.(md|txt|py|json)\b", e.source), (e.id, e.source)


def test_sources_page_describes_the_notes_and_links_the_papers(built):
    _, _, docs = built
    text = docs["sources.md"]
    assert "{ #the-lecture-notes }" in text and "Part 1" in text and "Part 2" in text
    for link in ("https://proceedings.mlr.press/v9/glorot10a.html", "https://arxiv.org/abs/1502.01852",
                 "https://arxiv.org/abs/1312.6120", "lecun-98b.pdf"):
        assert link in text, link
    # each figure kind that mirrors a paper's figure says so in its caption
    for page, text in docs.items():
        for kind, paper in (("activation_hist", "Glorot & Bengio (2010), Figure 6"),
                            ("gradient_hist", "Glorot & Bengio (2010), Figure 7"),
                            ("depth", "He et al. (2015), Figure 3")):
            for figure in re.findall(r"<figure.*?</figure>", text, flags=re.S):
                if f"--{kind}--" in figure:
                    assert paper in html.unescape(figure), (page, kind)


def test_cheat_sheet_links_every_line_to_an_existing_claim(built):
    exps, _, docs = built
    anchors = {(e.page, e.id) for e in exps}
    rows = [line for line in docs["cheatsheet.md"].splitlines() if line.startswith("| ") and "---" not in line][1:]
    links = [link for row in rows for link in re.findall(r"\]\(([a-z/-]+)\.md#([a-z0-9-]+)\)", row)]
    assert len(rows) >= 6
    for row in rows:
        assert re.search(r"\]\([a-z/-]+\.md#", row), row            # every line has its evidence
    assert links and all(link in anchors for link in links), set(links) - anchors


def test_teachers_answers_are_the_measured_numbers(built):
    exps, results, docs = built
    text = docs["teachers.md"]
    by_id = {e.id: e for e in exps}

    def acc(exp_id, role, **fields):
        return fmt.pct(results[by_id[exp_id].one(role, **fields).config]["final"]["test_accuracy"]["mean"])

    assert text.count('??? question "') >= 5
    ex1 = text.split('??? question "1.')[1].split("??? question")[0]
    assert f"{acc(ExpId.ZERO_RELU_TANH, 'subject', activation='relu')} with ReLU" in ex1
    assert f"{acc(ExpId.ZERO_RELU_TANH, 'reference', activation='relu')} for the same ReLU net" in ex1
    ex5 = text.split('??? question "5.')[1].split("??? question")[0]
    for role in ("pytorch", "keras", "reference"):
        assert acc(ExpId.FRAMEWORK_DEFAULTS, role, activation="relu") in ex5
    assert "initreport build --profile" in text and "--dataset" in text


def test_framework_defaults_and_moons_are_on_their_pages(built):
    exps, results, docs = built
    by_id = {e.id: e for e in exps}
    d = by_id[ExpId.FRAMEWORK_DEFAULTS]
    assert {r.config.init for r in d.select("pytorch")} == {"pytorch_default"}
    assert {r.config.init for r in d.select("keras")} == {"glorot_uniform"}
    assert all(r.config.bias is None for r in d.runs)          # each framework's own bias
    assert ExpId.FRAMEWORK_DEFAULTS in _sections(docs["choosing.md"])
    m = by_id[ExpId.ZERO_SIGMOID_MOONS]
    assert {r.config.dataset for r in m.runs} == {"moons"}
    zero = _sections(docs["pitfalls/zero.md"])
    ids = list(zero)
    assert ids.index(ExpId.ZERO_SIGMOID_MOONS) == ids.index(ExpId.ZERO_SIGMOID) + 1     # beside circles
    assert "leaky-relu" in _sections(docs["heuristics/he.md"])
