"""Text helpers for what the pages show (pure: no Streamlit)."""

from __future__ import annotations

import functools
import html
import re


def md_escape(text: str) -> str:
    """Untrusted text shown through st.markdown: no links, emphasis, HTML or maths."""
    out = html.escape(str(text), quote=False)
    for c in "\\`*_{}[]()#+-.!|$~":
        out = out.replace(c, "\\" + c)
    return out


def warnings_markdown(warnings: list[str]) -> str:
    """The box shown when a link could not be used as it is."""
    return ("**Some of the link could not be used; safe defaults are shown instead.**\n\n"
            + "\n".join(f"- {md_escape(w)}" for w in warnings))


def equations(latex: str) -> list[str]:
    """A rule's equations (the core joins them with \\quad)."""
    return [p.strip() for p in latex.replace(r"\qquad", r"\quad").split(r"\quad") if p.strip()]


def share_link(base_url: str | None, query: str) -> str:
    """The page's address (without its old query or fragment) with ``query``."""
    if base_url:
        return base_url.split("?")[0].split("#")[0] + "?" + query
    return "?" + query


@functools.lru_cache(maxsize=64)
def block_math(latex: str) -> str:
    """A displayed equation (LaTeX, ours: one of an update rule's, :func:`equations`; MathML has
    no line breaks the browser draws) as MathML, which the browser draws itself: KaTeX's
    rendering of the race page's update rules took ~100-190 ms of the browser's one thread each
    time the race fragment reran (adding or removing a run, benchmarks/results/HISTORY.md).
    What the converter cannot read is shown as the LaTeX."""
    from latex2mathml.converter import convert

    try:
        return convert(latex, display="block").replace("<math ", '<math style="font-size: 1.1em; margin: 0.5em 0" ', 1)
    except Exception:  # noqa: BLE001 - any failure: the text, not a traceback
        return f"<code>{html.escape(latex)}</code>"


# The cards' grid: two a row where they fit, one on a narrow screen; each card framed as
# st.container(border=True) frames one.
_GRID = ("display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr)); "
         "gap: 1rem; margin: 0 0 1rem")
_CARD = "border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; padding: 0.2rem 1rem 0.3rem; min-width: 0"


def rule_cards(rules) -> str:
    """The update rules' cards (each rule's title, equations as MathML, two sentences, its
    conventions and references: viz.optimizers' own text, no visitor's) as one markdown text
    for ``st.markdown(..., unsafe_allow_html=True)``: one element, not ~7 a row of two (columns,
    containers, a markdown each), which Streamlit's front end applies one by one each time the
    race fragment reruns (a run added or removed).  Markdown inside the HTML blocks is read as
    markdown (blank lines around it)."""
    cards = []
    for rule in rules:
        extra = f"*Conventions.* {rule.conventions}  \n" if rule.conventions else ""
        cards.append(f'<div style="{_CARD}">\n\n**{rule.title}**\n\n{"".join(map(block_math, equations(rule.latex)))}'
                     f'\n\n{rule.explanation}\n\n<div style="font-size: 0.875em">\n\n{extra}*References.* '
                     f'{"; ".join(rule.references)}\n\n</div>\n\n</div>')
    return f'<div style="{_GRID}">\n\n' + "\n\n".join(cards) + "\n\n</div>"


@functools.lru_cache(maxsize=256)
def inline_math(latex: str) -> str:
    """A formula (LaTeX, ours: a landscape's, or one the expression parser wrote) as inline MathML,
    which the browser draws itself.  For the race page's header: Streamlit's front end holds a
    run's elements back until its KaTeX code has loaded, which held a shared link's first chart
    back ~60-80 ms (benchmarks/results/HISTORY.md).  What the converter cannot read is shown as
    the LaTeX itself."""
    from latex2mathml.converter import convert  # (12 ms to import)

    tex = re.sub(r"\\operatorname\{([^{}]*)\}", r"\\text{\1}", latex)  # (else spelt out letter by letter)
    try:
        return convert(tex, display="inline").replace("<math ", '<math style="font-size: 1.15em" ', 1)
    except Exception:  # noqa: BLE001 - any failure: the text, not a traceback
        return f"<code>{html.escape(latex)}</code>"
