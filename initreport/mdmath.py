"""Python-Markdown extension: TeX math rendered to MathML at build time.

No JavaScript and no CDN: ``$...$`` (inline) and ``$$...$$`` (display) are converted with
``latex2mathml`` while the page is built, and browsers render the MathML natively.

Rules
-----
* Display math: a block that starts with ``$$`` (at most 3 spaces of indentation) and runs to
  the next ``$$``; it may span several lines (even blank ones).  It becomes
  ``<div class="math-display"><math display="block">...</math></div>``.  ``$$...$$`` in the
  middle of a paragraph becomes ``<span class="math-display">`` with block math inside.
* Inline math: ``$tex$`` where the opening ``$`` is followed by a non-space character, the
  closing ``$`` is preceded by a non-space character and not followed by a digit (pandoc's
  rule), so "costs $5 and $6" stays text.  ``\\$`` is a literal dollar sign, inside or outside
  math.
* Code spans and fenced/indented code are never touched (code spans run first, fences are
  stashed by the fence preprocessor, indented code wins over display math).
* Bad LaTeX raises :class:`MathError` (an :class:`InitReportError`) naming the expression, so
  a site build fails loudly instead of shipping broken formulas.

Register it in ``mkdocs.yml`` as ``- initreport.mdmath``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.etree.ElementTree import Element, SubElement

from markdown import Extension, Markdown
from markdown.blockprocessors import BlockProcessor
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString

from .errors import InitReportError

__all__ = ["MathError", "MathExtension", "latex_to_mathml", "makeExtension"]

_MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"
# MathML elements whose children are positional arguments: how many each must have.
_ARITY = {
    "mfrac": 2,
    "msup": 2,
    "msub": 2,
    "mroot": 2,
    "munder": 2,
    "mover": 2,
    "msubsup": 3,
    "munderover": 3,
}
_UNKNOWN_COMMAND = re.compile(r"\\[A-Za-z]+")


class MathError(InitReportError):
    """A formula that latex2mathml cannot turn into sound MathML."""


def _shown(tex: str, display: bool) -> str:
    one_line = " ".join(tex.split())
    if len(one_line) > 120:
        one_line = one_line[:117] + "..."
    fence = "$$" if display else "$"
    return f"{fence}{one_line}{fence}"


def _reason_from(exc: Exception) -> str:
    name = type(exc).__name__
    if name.endswith("Error"):
        name = name[: -len("Error")]
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    detail = str(exc).strip()
    return f"{words}: {detail}" if detail else words


def _check_braces(tex: str) -> str | None:
    depth = 0
    i = 0
    while i < len(tex):
        ch = tex[i]
        if ch == "\\":
            i += 2  # \{ \} \\ and commands: the next character is never a group brace
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return "unbalanced braces: '}' without '{'"
        i += 1
    if depth:
        return f"unbalanced braces: {depth} '{{' not closed"
    return None


def _check_tree(mathml: str) -> str | None:
    root = ET.fromstring(mathml)
    for el in root.iter():
        tag = el.tag.removeprefix(_MATHML_NS)
        want = _ARITY.get(tag)
        if want is not None and len(el) != want:
            return f"<{tag}> needs {want} arguments, got {len(el)} (missing braces?)"
        if tag != "mtext" and el.text:
            unknown = _UNKNOWN_COMMAND.search(el.text)
            if unknown:
                return f"unknown command {unknown.group(0)}"
    return None


def latex_to_mathml(tex: str, *, display: bool = False) -> str:
    """Convert one TeX formula (without delimiters) to a ``<math>`` element string.

    Raises :class:`MathError` naming the formula when it is empty or malformed (unbalanced
    braces, a missing argument, an unknown command, or anything latex2mathml rejects).
    """
    from latex2mathml.converter import convert

    shown = _shown(tex, display)
    if not tex.strip():
        raise MathError(f"bad LaTeX in {shown}: empty formula")
    problem = _check_braces(tex)
    if problem is None:
        try:
            mathml = convert(tex, display="block" if display else "inline")
        except Exception as exc:  # latex2mathml raises many unrelated exception types
            raise MathError(f"bad LaTeX in {shown}: {_reason_from(exc)}") from exc
        try:
            problem = _check_tree(mathml)
        except Exception as exc:  # the converter emitted malformed XML (e.g. for \& in \text)
            problem = f"the converter produced malformed MathML ({exc}); rephrase the formula"
    if problem is not None:
        raise MathError(f"bad LaTeX in {shown}: {problem}")
    return mathml


# Opening $ not escaped and not part of $$, followed by non-space; the body may contain \x
# escapes (so \$ stays inside), no bare $ and no stash placeholders (\x02...\x03, e.g. code
# spans); closing $ preceded by non-space and not followed by a digit or another $.
INLINE_MATH_RE = r"(?<![\\$])\$(?![\s$])((?:\\.|[^\\$\x02\x03])+?)(?<!\s)\$(?![\d$])"
# $$...$$ inside a paragraph (a paragraph that *starts* with $$ is handled as a block).
INLINE_DISPLAY_RE = r"(?<![\\$])\$\$(?!\$)((?:\\.|[^\\$\x02\x03])+?)\$\$"


class _InlineMath(InlineProcessor):
    def __init__(self, pattern: str, md: Markdown, display: bool):
        super().__init__(pattern, md)
        self.display = display

    def handleMatch(self, m: re.Match[str], data: str):  # noqa: N802 (Markdown API)
        html = latex_to_mathml(m.group(1), display=self.display)
        if self.display:
            html = f'<span class="math-display">{html}</span>'
        return self.md.htmlStash.store(html), m.start(0), m.end(0)


class _DisplayMathBlock(BlockProcessor):
    START = re.compile(r"^ {0,3}\$\$")

    def test(self, parent: Element, block: str) -> bool:
        return bool(self.START.match(block))

    def run(self, parent: Element, blocks: list[str]) -> bool:
        start = self.START.match(blocks[0]).end()
        text = blocks[0]
        for used in range(1, len(blocks) + 1):
            if used > 1:
                text += "\n\n" + blocks[used - 1]
            close = text.find("$$", start)
            if close != -1:
                break
        else:
            return False  # never closed: let the paragraph processor have it as text
        tex, rest = text[start:close], text[close + 2 :]
        del blocks[:used]
        if rest.strip():
            blocks.insert(0, rest.lstrip("\n"))
        html = latex_to_mathml(tex.strip(), display=True)
        div = SubElement(parent, "div", {"class": "math-display"})
        div.text = AtomicString(self.parser.md.htmlStash.store(html))
        return True


class MathExtension(Extension):
    """``$...$`` and ``$$...$$`` to MathML via latex2mathml."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown API)
        if "$" not in md.ESCAPED_CHARS:
            md.ESCAPED_CHARS.append("$")
        # Block: after indented code (80) so indented $$ stays code, before headers (70).
        md.parser.blockprocessors.register(_DisplayMathBlock(md.parser), "math_display", 75)
        # Inline: after code spans (190), before backslash escapes (180) so \{ \_ survive.
        md.inlinePatterns.register(
            _InlineMath(INLINE_DISPLAY_RE, md, display=True), "math_inline_display", 186
        )
        md.inlinePatterns.register(_InlineMath(INLINE_MATH_RE, md, display=False), "math_inline", 185)


def makeExtension(**kwargs) -> MathExtension:  # noqa: N802 (Markdown entry point)
    return MathExtension(**kwargs)
