"""Policies: versions, levels, targets, calendars, YAML in and out."""
