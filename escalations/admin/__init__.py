"""The Django admin for escalations."""

from escalations.admin import site  # noqa: F401  (registers)
