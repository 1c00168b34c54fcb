"""The one way ptbench writes HTML: jinja2 templates (``templates/``) with autoescape, so every
value a page shows is escaped unless it is already markup (a link, a table pandas rendered, a
JSON payload made safe for a ``<script>``).

Values are escaped by ``html.escape`` (``&quot;`` and ``&#x27;`` for quotes), the escaping the
pages had before they had templates, so the committed site and report regenerate byte for byte;
markupsafe's own (``&#34;``, ``&#39;``) reads the same in a browser.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

import jinja2
from markupsafe import Markup

from ptbench.present import tables


def _escaped(value: object) -> object:
    """What a ``{{ value }}`` prints: markup as it is, anything else escaped (``html.escape``)."""
    if value is None or hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value)))


def code_spans(text: str) -> Markup:
    """``text`` escaped, its Markdown code spans (```ptbench ab```) as ``<code>``: one sentence
    for the Markdown report and the HTML site alike."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text)))


@functools.cache
def environment() -> jinja2.Environment:
    made = jinja2.Environment(
        loader=jinja2.PackageLoader("ptbench.present", "templates"),
        autoescape=True,
        finalize=_escaped,
        undefined=jinja2.StrictUndefined,  # a name a template misspells fails, never prints ""
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    made.filters["code_spans"] = code_spans
    made.globals["sequential_caveat"] = tables.SEQUENTIAL_CAVEAT
    return made


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)


def trusted(text: str) -> Markup:
    """``text`` that is already HTML (pandas' tables, ``<script>``-safe JSON): printed as is."""
    return Markup(text)


@dataclass(frozen=True)
class Link:
    """A table cell or list item that links to ``href``, showing ``text``."""

    href: str
    text: str

    def __html__(self) -> str:
        return render("link.html", link=self).rstrip("\n")
