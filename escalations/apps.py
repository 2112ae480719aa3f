from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = _("Escalations")

    def ready(self) -> None:
        from anymail.signals import inbound

        from escalations.lifecycle import EscalationsLifecycle
        from escalations.notices.inbound_mail import customer_mail_received
        from escalations.web.incident_page import register_incident_page_panels
        from incidents.lifecycle import register

        # Incidents announce their lifecycle; escalations decides what follows.
        register(EscalationsLifecycle())
        # The incident page shows escalations' clocks and panels.
        register_incident_page_panels()
        # Customer replies by email reach their incident (notifications keeps the mail).
        inbound.connect(customer_mail_received, dispatch_uid="escalations.customer_reply")
