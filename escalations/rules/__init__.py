"""Pure rules: no Django, no database. Calendar arithmetic, clocks, triggers, handoff notes."""
