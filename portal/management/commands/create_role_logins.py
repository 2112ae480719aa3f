from django.core.management.base import BaseCommand

from portal.logins import ensure_role_logins


class Command(BaseCommand):
    help = "Create one login per role (and admin) with generated passwords, printed once."

    def handle(self, *args, **options):
        for login in ensure_role_logins():
            shown = login.password or "(already set; change with manage.py changepassword)"
            self.stdout.write(f"{login.role:<22} {login.username:<12} {shown}")
