"""Test data. Incidents are made through the services, like everywhere else."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from incidents import services
from incidents.models import Account, Channel, Component

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    time_zone = "UTC"
    # Always reachable, so tests do not depend on the time of day; quiet-hours
    # tests set working hours explicitly.
    working_hours = "24/7"

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        self.save(update_fields=["password"])


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")
    tier = "standard"
    primary_contact_name = "Jane Customer"
    primary_contact_email = factory.Sequence(lambda n: f"contact{n}@customer.example")


class ComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Component

    name = factory.Sequence(lambda n: f"Component {n}")


def make_incident(*, actor=None, **overrides):
    """An incident opened through the service, with sensible defaults."""
    defaults = {
        "title": "Checkout fails with a gateway timeout",
        "severity": "P2",
        "channel": Channel.objects.get_or_create(code="RUNTIME", defaults={"name": "Runtime"})[0],
    }
    return services.incident_create(actor=actor, **{**defaults, **overrides})


def oncall_spec(people=("ana", "ben"), *, timezone="Europe/Berlin", **layer) -> dict:
    """One weekly layer handing over on Mondays 09:00 local from 2026-01-05."""
    return {
        "timezone": timezone,
        "layers": [
            {
                "name": "primary",
                "people": list(people),
                "recurrence": "weekly",
                "start": "2026-01-05",
                "handoff": "09:00",
                **layer,
            }
        ],
    }


def schedule_held_by(holder, *, people, name="Platform on-call", hours=6):
    """A UTC weekly rotation of `people` where `holder` is on call from an hour ago for
    `hours` whatever the week (an override): cover requests and takes are about the near
    future, as they are in use. Refreshes the people (make_schedule reset passwords)."""
    from datetime import timedelta

    from django.utils import timezone

    from escalations.schedules.services import override_add

    schedule = make_schedule(name=name, spec=oncall_spec(people, timezone="UTC"))
    holder.refresh_from_db()
    now = timezone.now()
    override_add(
        actor=None,
        schedule=schedule,
        person=holder,
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=hours),
    )
    return schedule


def make_schedule(*, name="Platform on-call", spec=None, team=None, actor=None):
    """A schedule made through the service (the system as actor unless one is given);
    the spec's people are created as active users."""
    from escalations.schedules.services import schedule_create

    spec = spec or oncall_spec()
    for layer in spec["layers"]:
        for person in layer["people"]:
            UserFactory(username=person)
    return schedule_create(actor=actor, name=name, spec=spec, team=team)
