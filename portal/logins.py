"""One login per role, with a generated password shown once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from portal import roles
from portal.demo import ROLE_LOGINS


@dataclass
class Login:
    role: str
    username: str
    password: str | None  # None: it existed already and keeps its password


@transaction.atomic
def ensure_role_logins() -> list[Login]:
    """Give every role a usable login, plus `admin` (superuser).

    Users that already have a usable password are left alone, so passwords are
    printed only when they are made.
    """
    from django.apps import apps

    roles.sync_roles(apps)
    user_model = get_user_model()
    logins = []
    wanted = [(role, username) for role, username in ROLE_LOGINS.items()]
    wanted.append(("Administrator", "admin"))
    for role, username in wanted:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@portal.example",
                "is_staff": role in roles.ADMIN_ROLES or username == "admin",
                "is_superuser": username == "admin",
            },
        )
        if role in roles.ALL_ROLES:
            user.groups.add(Group.objects.get(name=role))
        if not created and user.has_usable_password():
            logins.append(Login(role, username, None))
            continue
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save(update_fields=["password"])
        logins.append(Login(role, username, password))
    return logins
