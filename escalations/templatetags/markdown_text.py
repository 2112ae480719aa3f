"""`md` filter: untrusted text placed in a Markdown document reads as text, never as markup."""

from django import template

from escalations.rules.text_safety import markdown_text

register = template.Library()


@register.filter
def md(value) -> str:
    """One line of people's text for a Markdown document (the weekly report's cells and
    bullets), escaped by the same rule as the other exports; `|` too, so a title cannot
    split a table row."""
    line = " ".join(str(value if value is not None else "").split())
    return markdown_text(line).replace("|", "\\|")
