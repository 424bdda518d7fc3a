"""Figures for the site: one registered function per figure kind, drawn in a light and a dark style.

The figure contract
-------------------
**A kind** is a function registered with ``@register(name, fmt="svg"|"png")`` in a family module
(:mod:`.layers`, :mod:`.distributions`, :mod:`.training`, :mod:`.studies`, or a new one imported at the end of this file, so
that build worker processes, which import this package, know it too)::

    @register("loss_curves", fmt="svg")
    def loss_curves(exp, runs, pal) -> (fig, alt, caption)

**Inputs.** ``exp``: the experiment (kinds may read ``exp.id``; nothing else is needed).
``runs``: ``[(Run, result dict), ...]`` in the experiment's run order (:class:`Run` from
:mod:`initreport.catalogue.model`; results in the ``initreport.result/1`` schema). A kind selects
and groups runs by ``run.config`` fields (init, activation, dataset, depth, width, init_params)
and ``run.role``, never by parsing ``run.label``, which is display text for legends and titles
only. ``pal``: the palette of the variant being drawn (:data:`.style.PALETTES`); the rcParams of
:func:`.style.rc` are already applied.

**Outputs.** A matplotlib figure ``pal["width"]`` wide (7 in, the page's content column), an ``alt`` text (what the
figure shows, in one sentence ending with a period, with its key numbers) and a ``caption``
(what to look at). Numbers in texts go through :mod:`initreport.fmt`. Statistics that are null
(a diverged seed, or a statistic that does not apply) are never plotted; diverged seeds are
marked on the figure or named in its caption. A curve that lies on another (:func:`.style.lies_on`)
is drawn so that both stay visible and the caption says so (:func:`.style.lies_on_text`). A kind
adapts to whatever runs it gets.

**Rendering.** :func:`render` (the only render path, used by builds and tests) draws a kind
in both variants and writes ``<experiment id>--<kind>--light.<fmt>`` and ``...--dark.<fmt>``
into a directory. A kind registered with ``phone=True`` is drawn a second time with
``pal["phone"]`` true and ``pal["width"]`` = :data:`.style.PHONE_WIDTH_IN` (3.9 in, for screens
below ~600 px) into ``...--light--phone.<fmt>`` and ``...--dark--phone.<fmt>``
(:class:`Figure` ``phone_light``/``phone_dark``, else None); the texts are the desktop ones; :func:`render_experiment` does it for each kind ``exp.figures`` lists.

**Determinism.** The same results give the same bytes: Agg backend, fixed SVG hash salt, no
dates or software tags in the files, every rcParam set from the defaults for each figure, and
files written atomically (temporary name in the same directory, then ``os.replace``).

**Cache key.** :func:`fingerprint` hashes one kind's own code (its function, the project
functions it calls and the module-level data they read), the shared modules (:mod:`.style`,
:mod:`initreport.fmt`, :mod:`.registry`), the modules it declares with ``depends=`` and the
matplotlib version. Another kind's code is not part of it.
"""

from __future__ import annotations

from .registry import FIGURES, Figure, FigureKind, file_name, fingerprint, get_kind, register, render, \
    render_experiment
from .style import PALETTES, PHONE_WIDTH_IN, PNG_DPI, SVG_DPI, VARIANTS, WIDTH_IN

# The family modules register their kinds on import.
from . import checkpoints, distributions, layers, studies, training  # noqa: E402,F401  isort: skip

__all__ = ["FIGURES", "Figure", "FigureKind", "file_name", "fingerprint", "get_kind", "register", "render",
           "render_experiment", "PALETTES", "PHONE_WIDTH_IN", "PNG_DPI", "SVG_DPI", "VARIANTS", "WIDTH_IN"]
