"""How every form field is drawn: one box per field (label, help, errors, widget).

Django's default field template emits the label, help text, errors and widget
as siblings; in a CSS grid each became its own cell, so labels drifted away from
their fields. One wrapper per field keeps them together everywhere.
"""

from django.forms.renderers import DjangoTemplates


class PortalFormRenderer(DjangoTemplates):
    field_template_name = "portal/forms/field.html"
