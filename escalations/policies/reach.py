"""Who a policy's levels reach: the people, contacts and channels a notice to a level
goes to, and the check that every level reaches someone (a level that reaches nobody
would swallow its escalations)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.contrib.auth import get_user_model

from escalations.rules.clocks import calendar_for
from escalations.rules.spec import LevelSpec, WorkflowSpec
from notifications.models import Contact
from portal.roles import LEGAL, TEAM_LEAD, VP


@dataclass(frozen=True)
class Recipient:
    channel: str
    address: str
    user_id: int | None = None
    name: str = ""
    # Availability (seed 002): weekly hours in the person's zone, and the
    # severities that reach them at any hour. No hours: always reachable.
    time_zone: str = "UTC"
    hours: object = None
    always_for: tuple[str, ...] = ()

    def not_before(self, severity: str, now):
        """When a message of this severity may go: now, or their next opening."""
        if self.hours in (None, "", "24/7") or severity in self.always_for:
            return now
        calendar = self._availability
        if calendar is None:
            return now  # a broken availability never holds a message back
        return max(now, calendar.next_opening(now))

    @cached_property
    def _availability(self):
        """Their weekly hours as a calendar, built once per recipient (a sweep asks
        for each of a level's recipients once per incident)."""
        try:
            return calendar_for({"timezone": self.time_zone, "hours": self.hours})
        except (ValueError, TypeError):
            return None


def person(user) -> Recipient:
    return Recipient(
        "email",
        user.email,
        user.pk,
        str(user),
        time_zone=str(user.time_zone),
        hours=user.working_hours,
        always_for=tuple(user.urgent_severities or ()),
    )


def contact_recipients(contact, channels: list[str]) -> list[Recipient]:
    """A directory contact on the channels it has."""
    availability = {
        "time_zone": contact.time_zone,
        "hours": contact.hours,
        "always_for": tuple(contact.always_for or ()),
    }
    found = []
    if "email" in channels and contact.email:
        found.append(
            Recipient("email", contact.email, contact.user_id, contact.name, **availability)
        )
    if wants_slack(channels) and contact.slack_webhook_url:
        found.append(Recipient("slack", contact.slack_webhook_url, name=contact.name))
    if "pagerduty" in channels and contact.pagerduty_routing_key:
        found.append(Recipient("pagerduty", contact.pagerduty_routing_key, name=contact.name))
    return found


# Who may read a security incident's details by email (seed 000: limited distribution).
SECURITY_READERS = (
    "Security",
    "Engineering Manager",
    "Director",
    "Governance Liaison",
    "Executive",
    VP,
)
# Seed 000 Security Incident: "Coordinate with legal if data breach": a security incident
# with data loss (Incident.is_data_breach) is also read by Legal (portal.roles.VIEW_DATA_BREACH).
BREACH_READERS = (LEGAL,)


def security_reader_ids(incident=None) -> set[int]:
    """Who may read a security incident's details by email: SECURITY_READERS, and for a
    data breach also BREACH_READERS."""
    names = SECURITY_READERS
    if incident is not None and incident.is_data_breach:
        names = (*SECURITY_READERS, *BREACH_READERS)
    return set(users_in_groups(names).values_list("pk", flat=True))


def limited_to_readers(recipients: list[Recipient], readers: set[int]) -> list[Recipient]:
    """A security incident's notices: emails only to `readers` (and to addresses that are
    no person's); chat and paging carry no details and all go."""
    return [
        r for r in recipients if r.channel != "email" or r.user_id in readers or r.user_id is None
    ]


def users_in_groups(names: Iterable[str]):
    return (
        get_user_model()
        .objects.filter(groups__name__in=list(names), is_active=True)
        .exclude(email="")
        .distinct()
    )


def team_leads(team: str | int | None = None):
    """The Team Leads of a team (a role group, by name or id): those of its members in
    the Team Lead group; every Team Lead when it has none (a team of agents has its
    leads in another group; a warning nobody hears is worse than one every lead hears)."""
    leads = users_in_groups([TEAM_LEAD])
    if team:
        by = {"groups__name": team} if isinstance(team, str) else {"groups": team}
        own = leads.filter(**by)
        if own.exists():
            return own
    return leads


def lead_warning_recipients(leads, *, assignee_id, level_email) -> list[Recipient]:
    """Who a missed update's second warning (`warn_lead`) reaches: the level's lead,
    never the owner (the first warning was theirs); with no other lead, the level by email
    (`level_email()`). One rule for the sweep and the what-if simulation."""
    return [r for r in leads if r.user_id is None or r.user_id != assignee_id] or level_email()


def wants_slack(channels) -> bool:
    """Either Slack method (seed 001's slack_channel or slack_oncall) is Slack."""
    return "slack" in channels or "slack_oncall" in channels


def team_channels(level_spec, channels: list[str]) -> list[Recipient]:
    """The level's shared channels, not people: its chat (the Slack webhook), the pager
    service and the outgoing webhook, those of `channels` that are configured."""
    found = []
    slack = settings.SLACK_WEBHOOK_URL if "slack" in channels else ""
    if "slack_oncall" in channels:
        slack = settings.SLACK_ONCALL_WEBHOOK_URL or settings.SLACK_WEBHOOK_URL
    if slack:
        chat = dict(level_spec.contacts).get("chat", "")
        found.append(Recipient("slack", slack, name=chat))
    if "pagerduty" in channels and settings.PAGERDUTY_ROUTING_KEY:
        found.append(Recipient("pagerduty", settings.PAGERDUTY_ROUTING_KEY, name=level_spec.name))
    if "webhook" in channels and settings.NOTIFICATION_WEBHOOK_URL:
        found.append(Recipient("webhook", settings.NOTIFICATION_WEBHOOK_URL))
    return found


def level_recipients(
    level_spec, *, channels: list[str], members=None, directory=None
) -> list[Recipient]:
    """A level's contacts (policy snapshot) and its team's members, on the given channels.
    `members` and `directory`: the team's users and directory contacts when the caller
    has read them already (a sweep reads each team once)."""
    recipients: list[Recipient] = []
    contacts = dict(level_spec.contacts)
    if "email" in channels:
        if contacts.get("email"):
            recipients.append(Recipient("email", contacts["email"], name=level_spec.name))
        if level_spec.team:
            if members is None:
                members = users_in_groups([level_spec.team])
            for user in members:
                recipients.append(person(user))
    recipients += team_channels(level_spec, channels)
    if level_spec.team:
        if directory is None:
            directory = directory_contacts(level_spec.team)
        for contact in directory:
            recipients += contact_recipients(contact, channels)
    return unique_recipients(recipients)


def on_call_recipients(level_spec, user, *, channels: list[str], directory=()) -> list[Recipient]:
    """A level with an on-call schedule: the person on call (their email, and their own
    directory entry's pager and chat) and the team channel (the chat webhook and the
    team's shared directory entries' chat), not every member of the team. `directory`:
    the team's directory contacts."""
    recipients: list[Recipient] = []
    if "email" in channels and user.email:
        recipients.append(person(user))
    recipients += team_channels(level_spec, channels)
    for contact in directory:
        if contact.user_id == user.pk:
            recipients += contact_recipients(contact, channels)
        elif contact.user_id is None and wants_slack(channels):
            recipients += contact_recipients(contact, ["slack"])
    return unique_recipients(recipients)


def directory_contacts(team: str):
    return Contact.objects.filter(team__name=team, is_active=True)


def group_recipients(names: Iterable[str]) -> list[Recipient]:
    return unique_recipients([person(u) for u in users_in_groups(names)])


def user_recipient(user) -> list[Recipient]:
    if user is None or not user.email or not user.is_active:
        return []
    return [person(user)]


def told(
    incident, recipients: list[Recipient], readers: Callable[..., set[int]] = security_reader_ids
) -> list[Recipient]:
    """Who an incident's notice goes to: each address once and, for a security incident
    (seed 000's limited distribution), emails only to those cleared to read it. `readers`:
    where to read the cleared people's ids for the incident (the engine's Audience keeps
    them for a sweep), asked only for a security incident."""
    recipients = unique_recipients(recipients)
    if incident.is_security:
        recipients = limited_to_readers(recipients, readers(incident))
    return recipients


def unique_recipients(recipients: list[Recipient]) -> list[Recipient]:
    seen, result = set(), []
    for recipient in recipients:
        key = (recipient.channel, recipient.address.lower())
        if key not in seen:
            seen.add(key)
            result.append(recipient)
    return result


def level_reach(level: LevelSpec) -> list[str]:
    """The people and addresses a notice to `level` reaches: its team's active members
    with an email address, its team's directory contacts, its own email contact."""
    reached = [r.address for r in level_recipients(level, channels=["email"])]
    if level.team:
        reached += [
            contact.name
            for contact in directory_contacts(level.team)
            if contact.slack_webhook_url or contact.pagerduty_routing_key
        ]
    return list(dict.fromkeys(reached))


def reach_problems(spec: WorkflowSpec) -> list[str]:
    """One line per level that would notify nobody: escalations to it, its SLA
    warnings and customer replies while nobody owns the incident would go unheard."""
    problems = []
    for level in spec.levels:
        if level_reach(level):
            continue
        team = (
            f"its team {level.team!r} has no active member with an email address and no "
            "directory contact"
            if level.team
            else "it names no team"
        )
        problems.append(
            f"{level.label} {level.name} reaches nobody: {team}, and it has no email contact. "
            "Name a group that has people (a role such as Team Lead works) or add "
            "contacts.email."
        )
    return problems
