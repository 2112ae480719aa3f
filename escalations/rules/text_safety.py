"""User text inside exported files: it reads as the text it is, never as markup.

Titles, notes, replies and review paragraphs are typed by people (and alert
payloads). Exports are opened in Markdown viewers, wikis and tickets, so a
title like `<img src=x onerror=...>` or `[x](javascript:...)` must not become
an element or a link there (issue 15, finding 12). Pure: no Django import.
"""

from __future__ import annotations

import re

# Schemes a link may not carry, with the spaces and case browsers forgive.
_BAD_SCHEME = re.compile(r"(?i)\b(javascript|vbscript|data)(\s*):")
# "<" that could open an HTML tag, comment or declaration.
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")


def markdown_text(value: object) -> str:
    """Text for a Markdown document, rendered as written.

    `<` becomes `&lt;` (no raw HTML, no autolinks); `[` and `]` are escaped
    (no links, images or link definitions) and so is `\\`; a dangerous scheme
    loses its bare colon as well, for renderers that autolink. Each escape
    renders as the original character."""
    text = str(value).replace("\\", "\\\\").replace("<", "&lt;")
    text = text.replace("[", "\\[").replace("]", "\\]")
    return _BAD_SCHEME.sub(lambda m: f"{m[1]}{m[2]}\\:", text)


def data_text(value: object) -> str:
    """Text for a data file (YAML) that tools may show as HTML: no tag can open;
    a lone `<` (as in "latency < 5 s") stays as it is."""
    return _TAG_OPEN.sub("&lt;", str(value))
