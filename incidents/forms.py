from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.models import PUBLIC_STATE_CHOICES, Channel, Incident
from incidents.rules import PublicState, Severity, allowed_moves
from incidents.services import STATUS_PAGE_TITLE_LIMIT, STATUS_PAGE_UPDATE_LIMIT


def active_users():
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "username")


class IncidentCreateForm(forms.ModelForm):
    opened_at = forms.DateTimeField(
        label="Opened at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Only for incidents that started earlier (imports). Never in the future.",
    )

    class Meta:
        model = Incident
        fields = [
            "title",
            "severity",
            "channel",
            "category",
            "component",
            "account",
            "description",
            "is_production_outage",
            "is_security",
            "is_compliance",
            "is_data_loss",
            "is_legal_exposure",
            "is_pr_crisis",
            "is_customer_facing",
            "users_affected",
            "revenue_impact",
            "assignee",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(is_active=True)
        self.fields["assignee"].queryset = active_users()
        self.fields["severity"].initial = Severity.P2.value

    def clean_opened_at(self):
        value = self.cleaned_data.get("opened_at")
        if value and value > timezone.now():
            raise forms.ValidationError("The opening time cannot be in the future.")
        return value


class IncidentDetailsForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = [
            "title",
            "category",
            "component",
            "account",
            "description",
            "is_production_outage",
            "is_security",
            "is_compliance",
            "is_data_loss",
            "is_legal_exposure",
            "is_pr_crisis",
            "is_customer_facing",
            "users_affected",
            "revenue_impact",
            "root_cause",
            "root_cause_key",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "root_cause": forms.Textarea(attrs={"rows": 3}),
        }


class CommentForm(forms.Form):
    body = forms.CharField(label="Internal note", widget=forms.Textarea(attrs={"rows": 3}))


class PublicUpdateForm(forms.Form):
    body = forms.CharField(
        label="Update for the customer",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Visible to the customer.",
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="New status")
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when resolving: how was it fixed?",
    )

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s.value, s.label) for s in allowed_moves(incident.status)]


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label="Assign to", queryset=active_users(), required=False, empty_label="Nobody"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = active_users()


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(label="Severity", choices=[(s.value, s.label) for s in Severity])
    reason = forms.CharField(label="Why", widget=forms.Textarea(attrs={"rows": 2}))


class ReopenForm(forms.Form):
    reason = forms.CharField(label="Why reopen", widget=forms.Textarea(attrs={"rows": 2}))


# --- the public status page (seed 002): what anyone may read, never the internal title -------

PUBLIC_STATE_HELP = " ".join(f"{s.label}: {s.meaning}" for s in PublicState)
PUBLIC_TEXT_HELP = (
    "Shown to anyone on the public status page: no customer names, people or internals."
)


def _public_title_field():
    return forms.CharField(
        label="Public title",
        max_length=STATUS_PAGE_TITLE_LIMIT,
        help_text='What the public reads instead of the internal title, e.g. "Slow sign-in".',
    )


def _public_body_field():
    return forms.CharField(
        label="Public update",
        max_length=STATUS_PAGE_UPDATE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=PUBLIC_TEXT_HELP,
    )


def _public_state_field():
    return forms.ChoiceField(
        label="Public state", choices=PUBLIC_STATE_CHOICES, help_text=PUBLIC_STATE_HELP
    )


class StatusPagePublishForm(forms.Form):
    public_title = _public_title_field()
    state = _public_state_field()
    body = _public_body_field()


class StatusPageUpdateForm(forms.Form):
    state = _public_state_field()
    body = _public_body_field()


class StatusPageTitleForm(forms.Form):
    public_title = _public_title_field()


class StatusPageWithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why take it off the status page",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Internal: stays on the timeline.",
    )


# --- the customer's status page ---------------------------------------------------------------


class CustomerReplyForm(forms.Form):
    body = forms.CharField(
        label="Your message",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Write your message first."},
    )


class CustomerRatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How did we do?",
        coerce=int,
        choices=[
            (5, "5 · Excellent"),
            (4, "4 · Good"),
            (3, "3 · Fair"),
            (2, "2 · Poor"),
            (1, "1 · Very poor"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Pick a rating from 1 to 5."},
    )
    comment = forms.CharField(
        label="Anything to add? (optional)",
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
