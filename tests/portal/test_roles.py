import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from portal.roles import ADMIN_ROLES, ALL_ROLES, ROLE_PERMISSIONS, VIEW_SECURITY, sync_roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_every_role_has_its_permissions(roles):
    for role in ALL_ROLES:
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert set(ROLE_PERMISSIONS[role]) <= granted, role


def test_sync_is_idempotent_and_keeps_extra_grants(roles):
    from django.contrib.auth.models import Permission

    group = Group.objects.get(name="Support Agent")
    extra = Permission.objects.get(codename="add_account")
    group.permissions.add(extra)
    sync_roles(apps)
    sync_roles(apps)
    assert Group.objects.filter(name="Support Agent").count() == 1
    assert group.permissions.filter(pk=extra.pk).exists()


def test_only_security_and_management_see_security_incidents(roles):
    for role in ALL_ROLES:
        user = UserFactory(role=role)
        expected = role in {
            "Security",
            "Engineering Manager",
            "Director",
            "Governance Liaison",
            "Executive",
            "VP",  # seed 003/004: above the directors
        }
        assert user.has_perm(VIEW_SECURITY) is expected, role


def test_only_legal_is_cleared_for_data_breaches_alone(roles):
    """Seed 000 "Coordinate with legal if data breach": Legal holds the data-breach
    clearance without the security one."""
    legal = UserFactory(role="Legal")
    assert legal.has_perm("incidents.view_data_breach") and not legal.has_perm(VIEW_SECURITY)


def test_admin_roles_are_the_managers():
    assert "Support Agent" not in ADMIN_ROLES and "Engineering Manager" in ADMIN_ROLES


def test_product_and_customer_success_follow_incidents_read_only(roles):
    for role in ("Product", "Customer Success"):
        user = UserFactory(role=role)
        assert user.has_perm("incidents.view_incident"), role
        assert not user.has_perm("incidents.change_incident"), role
        assert not user.has_perm("incidents.add_incident"), role
        assert role not in ADMIN_ROLES
