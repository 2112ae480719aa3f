"""On-call schedules stored in the database: services (every change) and selectors (the pure
`escalations.rules.oncall.Schedule` built from a stored schedule and its overrides)."""
