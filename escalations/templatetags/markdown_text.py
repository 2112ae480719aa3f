"""`md` filter: untrusted text placed in a Markdown document reads as text, never as markup."""

import re

from django import template

register = template.Library()

# Characters that start Markdown or HTML syntax; a backslash makes each literal.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&~])")


@register.filter
def md(value) -> str:
    text = " ".join(str(value if value is not None else "").split())  # one line each
    return _SPECIAL.sub(r"\\\1", text)
