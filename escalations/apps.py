from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = _("Escalations")

    def ready(self) -> None:
        from anymail.signals import inbound

        from .inbound_mail import customer_mail_received

        # Customer replies by email reach their incident (notifications keeps the mail).
        inbound.connect(customer_mail_received, dispatch_uid="escalations.customer_reply")
