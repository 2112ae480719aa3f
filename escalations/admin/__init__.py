"""The Django admin for escalations (Django imports this package; each module registers
its admins): policies, calendars, follow-up and the incident admin's escalation parts in
`site`, the outbox and inbound mail (notifications' models, shown as each role may see
their incidents) in `notifications`, on-call schedules in `schedules`."""

from escalations.admin import notifications, schedules, site  # noqa: F401  (they register)
