"""People write notes in Markdown: show them formatted, never as HTML they typed.

markdown-it's "zero" preset with a few rules turned on; `html` stays off, so any
tag a person types is shown as text, and links go only to http(s) and mailto.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

register = template.Library()

SAFE_SCHEMES = ("http://", "https://", "mailto:")


def _validate_link(url: str) -> bool:
    return url.strip().lower().startswith(SAFE_SCHEMES)


_md = MarkdownIt(
    "zero", {"html": False, "linkify": False, "breaks": True, "typographer": False}
).enable(
    [
        "emphasis",
        "backticks",
        "link",
        "autolink",
        "newline",
        "escape",
        "entity",
        "strikethrough",
        "list",
        "blockquote",
        "fence",
        "code",
        "heading",
        "hr",
    ]
)
_md.validate_link = _validate_link


def _open_links_safely(renderer, tokens, idx, options, env):
    token = tokens[idx]
    token.attrSet("rel", "nofollow noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)


_md.add_render_rule("link_open", _open_links_safely)


def render_markdown(text: str | None) -> str:
    return _md.render(str(text or ""))


@register.filter(name="markdown")
def markdown_filter(text) -> str:
    """Safe HTML from untrusted Markdown (html disabled, links http/https/mailto)."""
    # markdown-it escapes all input (html disabled): the result is safe to mark.
    return mark_safe(render_markdown(text))
