"""Who hears what in a batch of moves and pages, each looked up once: the levels'
recipients, the teams' members and directory, the security readers, and the on-call
schedules and the people they page (a sweep asks the directory a fixed number of times,
not once per incident)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model

from escalations.models import OnCallSchedule, WarRoomAssignment, WarRoomRole
from escalations.policies import reach
from escalations.rules.oncall import on_call, paging_order_after
from escalations.schedules.selectors import schedule_core


class Audience:
    """Who hears what, looked up once per (level, channels) or group list: a batch of
    moves asks the directory a fixed number of times, not once per incident."""

    def __init__(self) -> None:
        self._levels: dict[tuple, list[reach.Recipient]] = {}
        self._teams: dict[str, tuple[list, list]] = {}
        self._groups: dict[tuple, list[reach.Recipient]] = {}
        self._leads: dict[str, list[reach.Recipient]] = {}
        self._security_readers: dict[bool, set[int]] = {}
        self._commanders: dict[int, int] | None = None
        self.rota = Rota()

    def level(self, level_spec, channels: list[str]) -> list[reach.Recipient]:
        key = (level_spec.name, level_spec.team, level_spec.contacts, tuple(channels))
        if key not in self._levels:
            members, directory = self._team(level_spec.team)
            self._levels[key] = reach.level_recipients(
                level_spec, channels=channels, members=members, directory=directory
            )
        return list(self._levels[key])

    def leads(self, level_spec) -> list[reach.Recipient]:
        """The level's lead: the Team Leads of its team (reach.team_leads), by email."""
        if level_spec.team not in self._leads:
            self._leads[level_spec.team] = [
                reach.person(user) for user in reach.team_leads(level_spec.team)
            ]
        return list(self._leads[level_spec.team])

    def on_call(self, level_spec, user, channels: list[str]) -> list[reach.Recipient]:
        """A scheduled level's notices: the person on call and the team channel."""
        _members, directory = self._team(level_spec.team)
        return reach.on_call_recipients(
            level_spec, user, channels=channels, directory=directory or ()
        )

    def _team(self, team: str) -> tuple[list | None, list | None]:
        """A team's members and directory contacts, read once for every channel set
        and every policy whose levels name the team."""
        if not team:
            return None, None
        if team not in self._teams:
            self._teams[team] = (
                list(reach.users_in_groups([team])),
                list(reach.directory_contacts(team)),
            )
        return self._teams[team]

    def groups(self, names) -> list[reach.Recipient]:
        key = tuple(names)
        if key not in self._groups:
            self._groups[key] = reach.group_recipients(key)
        return list(self._groups[key])

    def security_readers(self, incident) -> set[int]:
        """Who may read `incident`'s details if it is a security incident (a data
        breach's readers include Legal), read once per kind."""
        breach = incident.is_data_breach
        if breach not in self._security_readers:
            self._security_readers[breach] = reach.security_reader_ids(incident)
        return self._security_readers[breach]

    def war_room_commander(self, incident_id: int) -> int | None:
        """The user id of the incident's war-room commander, if it has an open war room
        with one. Every open war room's commander is read at the first question, in one
        query (war rooms are few), not once per incident a sweep warns."""
        if self._commanders is None:
            self._commanders = dict(
                WarRoomAssignment.objects.filter(
                    war_room__closed_at__isnull=True,
                    role=WarRoomRole.COMMANDER,
                    until__isnull=True,
                ).values_list("war_room__incident_id", "user_id")
            )
        return self._commanders.get(incident_id)


class Rota:
    """The schedules a sweep pages through, each read once by name, and the people it
    pages, each read once by username."""

    def __init__(self) -> None:
        self._schedules: dict[str, OnCallSchedule | None] = {}
        self._people: dict[str, object] = {}

    def schedule(self, name: str) -> OnCallSchedule | None:
        if name not in self._schedules:
            self._schedules[name] = OnCallSchedule.objects.filter(name=name).first()
        return self._schedules[name]

    def person(self, username: str | None):
        if not username:
            return None
        if username not in self._people:
            self._people[username] = (
                get_user_model().objects.filter(username=username, is_active=True).first()
            )
        return self._people[username]

    def on_call(self, name: str, at: datetime):
        """The active user on call for schedule `name` at `at`, or None (no such schedule,
        nobody on call, or a person the portal does not know)."""
        schedule = self.schedule(name)
        if schedule is None:
            return None
        current = on_call(schedule_core(schedule, since=at), at)
        return self.person(current.person) if current else None

    def paging_order_after(self, name: str, at: datetime, after: str | None) -> tuple[str, ...]:
        """Whom schedule `name` pages at `at` after `after` (rules.oncall)."""
        schedule = self.schedule(name)
        if schedule is None:
            return ()
        return paging_order_after(schedule_core(schedule, since=at), at, after)
