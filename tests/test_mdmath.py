"""initreport.mdmath: TeX to MathML at build time."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import markdown
import pytest

from initreport.errors import InitReportError
from initreport.mdmath import MathError, MathExtension, latex_to_mathml

NS = "{http://www.w3.org/1998/Math/MathML}"


def render(text: str) -> str:
    md = markdown.Markdown(
        extensions=[MathExtension(), "pymdownx.superfences", "admonition", "attr_list", "toc"]
    )
    return md.convert(text)


def maths(html: str) -> list[ET.Element]:
    """All <math> elements of an HTML fragment (the output is well-formed here)."""
    root = ET.fromstring(f"<root>{html}</root>")
    return list(root.iter(f"{NS}math"))


def local(el: ET.Element) -> str:
    return el.tag.removeprefix(NS)


def test_inline_math_becomes_inline_mathml_with_fraction():
    html = render(r"Ratio $\frac{a}{b}$ here.")
    assert html.startswith("<p>Ratio <math") and html.endswith("here.</p>")
    (m,) = maths(html)
    assert m.get("display") == "inline"
    frac = next(m.iter(f"{NS}mfrac"))
    assert [local(c) for c in frac] == ["mrow", "mrow"]
    assert [e.text for e in frac.iter(f"{NS}mi")] == ["a", "b"]


def test_inline_subscript_and_text_survive_markdown():
    # _ and \{ would be eaten by emphasis / backslash escapes if math ran later.
    html = render(r"Use $n_{\text{in}}$ and $a_i b_j$ and $\{x\}$.")
    ms = maths(html)
    assert len(ms) == 3
    assert ms[0].find(f".//{NS}msub/{NS}mi").text == "n"
    assert ms[0].find(f".//{NS}mtext").text == "in"
    assert len(ms[1].findall(f".//{NS}msub")) == 2
    assert "<em>" not in html


def test_display_math_multiline_block():
    html = render("Before.\n\n$$\n\\operatorname{Var}(W) =\n  \\frac{2}{n}\n$$\n\nAfter.")
    assert '<div class="math-display"><math' in html
    (m,) = maths(html)
    assert m.get("display") == "block"
    assert m.find(f".//{NS}mfrac") is not None
    assert html.index("Before.") < html.index("<math") < html.index("After.")
    assert "$$" not in html


def test_display_math_single_line_and_inside_paragraph():
    html = render("$$ y = 2 $$\n\nText with $$x=1$$ inside.")
    ms = maths(html)
    assert [m.get("display") for m in ms] == ["block", "block"]
    assert '<p>Text with <span class="math-display"><math' in html


def test_display_math_inside_admonition_and_list_item():
    html = render("!!! note\n    $$\n    z = 3\n    $$\n\n- item $a$\n")
    ms = maths(html)
    assert [m.get("display") for m in ms] == ["block", "inline"]


def test_dollars_in_code_untouched():
    src = "Code `$x$ and $$y$$` here.\n\n```\n$$\nz\n$$\n$w$\n```\n\n    $$ indented $$\n"
    html = render(src)
    assert maths(html) == []
    assert "<code>$x$ and $$y$$</code>" in html
    assert "$$\nz\n$$\n$w$" in html
    assert "$$ indented $$" in html


def test_currency_is_left_alone():
    html = render("It costs $5 and $6, or $ 7 $ at most.")
    assert maths(html) == []
    assert "It costs $5 and $6, or $ 7 $ at most." in html


def test_currency_next_to_real_math():
    html = render(r"Pay $5, then compute $x^2$.")
    (m,) = maths(html)
    assert m.find(f".//{NS}msup") is not None
    assert html.startswith("<p>Pay $5, then compute <math")


def test_escaped_dollar_is_literal():
    html = render(r"Literal \$x\$ stays.")
    assert maths(html) == []
    assert "Literal $x$ stays." in html


def test_unclosed_display_math_is_text():
    html = render("$$\nnever closed\n")
    assert maths(html) == []
    assert "never closed" in html


@pytest.mark.parametrize(
    "source, shown",
    [
        (r"Bad $x^$ here.", "$x^$"),
        ("$$\n\\frac{a\n$$", r"$$\frac{a$$"),
        (r"Oops $\notacommand x$.", r"$\notacommand x$"),
        (r"Half $\frac a$.", r"$\frac a$"),
        ("$$\n\\left( x\n$$", r"$$\left( x$$"),
    ],
)
def test_bad_latex_raises_naming_the_expression(source, shown):
    with pytest.raises(MathError) as info:
        render(source)
    message = str(info.value)
    assert shown in message
    assert "\n" not in message
    assert isinstance(info.value, InitReportError)


def test_latex_to_mathml_direct():
    block = latex_to_mathml(r"\sqrt{2/n}", display=True)
    assert block.startswith("<math") and 'display="block"' in block
    assert "<msqrt>" in block
    with pytest.raises(MathError, match="empty formula"):
        latex_to_mathml("   ")
