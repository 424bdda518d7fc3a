"""The one number formatter of initreport, with a text and an HTML target.

Every number that reaches a page, a figure, a verdict or the terminal goes through
:func:`num` / :func:`pct` / :func:`pm`, so one value always reads the same everywhere:

* ``target="text"`` (figures, verdict sentences, the terminal): ``0.0731``, ``2.48×10⁻⁷``
* ``target="html"`` (Markdown/HTML tables): ``0.0731``, ``2.48×10<sup>−7</sup>``

Plain decimals are used for 1e-3 ≤ |x| < 1e4, scientific notation outside that range.
A missing value (None, NaN, ±Inf) prints as ``n/a``.

User text that reaches Markdown or HTML goes through :func:`inert`: it can never become a
link, an image, markup or a script, whatever it contains.
"""

from __future__ import annotations

import html
import math
import re

MISSING = "n/a"
_SUPERSCRIPT = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")


def _finite(x) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def num(x, digits: int = 3, target: str = "text") -> str:
    """A number with ``digits`` significant digits, for ``target`` "text" or "html"."""
    value = _finite(x)
    if value is None:
        return MISSING
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        text = f"{value:.{digits}g}"
        # ".3g" writes 2140 as "2.14e+03" (more integer digits than significant ones): plain instead.
        return f"{float(text):.0f}" if "e" in text else text
    mantissa, exp = f"{value:.{max(digits - 1, 0)}e}".split("e")
    exponent = int(exp)
    if target == "html":
        return f"{mantissa}×10<sup>{str(exponent).replace('-', '−')}</sup>"
    if target == "text":
        return f"{mantissa}×10{str(exponent).translate(_SUPERSCRIPT)}"
    raise ValueError(f"unknown number target {target!r} (allowed: text, html)")


def pct(x, digits: int = 1) -> str:
    """A fraction as a percentage: 0.973 → '97.3%'."""
    value = _finite(x)
    return MISSING if value is None else f"{100 * value:.{digits}f}%"


def pm(stat: dict | None, fmt=None, target: str = "text") -> str:
    """'mean ± std' of a result summary ({"mean", "std", "n", ...}); n/a where no seed survived."""
    fmt = fmt or (lambda v: num(v, target=target))
    if not stat or stat.get("mean") is None:
        return MISSING
    if stat.get("n", 0) > 1 and stat.get("std") is not None:
        return f"{fmt(stat['mean'])} ± {fmt(stat['std'])}"
    return fmt(stat["mean"])


def parse(text: str) -> float:
    """The float a :func:`num` string stands for (for tests and for reading tables back)."""
    text = text.strip().replace("−", "-").replace("⁻", "-")
    if text == MISSING:
        return math.nan
    m = re.fullmatch(r"([-+]?[\d.]+)×10(?:<sup>)?([-+]?[\d⁰¹²³⁴⁵⁶⁷⁸⁹⁺]+)(?:</sup>)?", text)
    if m:
        exp = m.group(2).translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺", "0123456789+"))
        return float(m.group(1)) * 10.0 ** int(exp)
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text)


# Characters with a meaning in Markdown (links, images, emphasis, code, tables, headings,
# HTML, math) are replaced by their HTML entities, which Markdown leaves alone and a
# browser shows as the character itself.
_MARKDOWN = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+!|~$:"}


def inert(text) -> str:
    """User text made inert for Markdown and HTML: shown literally, never a link or markup."""
    text = str(text)
    out = []
    for i, c in enumerate(text):
        # An underscore inside a word (n_in, he_normal) is never emphasis in Python-Markdown, and
        # kept literal it still matches the glossary's abbreviations; elsewhere it is escaped.
        if c == "_" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum():
            out.append(c)
        else:
            out.append(_MARKDOWN.get(c) or html.escape(c, quote=True))
    escaped = "".join(out)
    # Line breaks would end a table row or start a block; control characters have no place.
    return re.sub(r"[\x00-\x1f\x7f]+", " ", escaped)
