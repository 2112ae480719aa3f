from datetime import timedelta

from django import forms
from django.utils import timezone

from escalations.models import (
    ActionItemStatus,
    PreventionConfidence,
    ReasonCategory,
    VendorCaseStatus,
    WarRoomReason,
    WarRoomRole,
)
from escalations.rules.followup import ENGAGE_TAM, parse_timeline, text_items, timeline_lines
from escalations.rules.handoff import CHECKLIST, field_label
from escalations.rules.spec import WorkflowSpec
from incidents.forms import active_users
from incidents.models import Incident


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """Several ids; one that is not a 64-bit id is an invalid choice.

    Django sends each value to the database in an `IN (...)`, where SQLite
    overflows on a huge number: that was a 500 (issue 15, finding 7)."""

    def _check_values(self, value):
        for pk in value:
            text = str(pk).strip()
            if not (text.isascii() and text.isdigit()) or int(text) >= 2**63:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class EscalateForm(forms.Form):
    """Escalate with the handoff note the target level asks for (policy data).

    Note fields of every higher level are on the form; each says which level
    needs it, and the service checks the chosen level's list.
    """

    to_level = forms.TypedChoiceField(label="Escalate to", coerce=int)
    category = forms.ChoiceField(label="Why")
    reason = forms.CharField(
        label="Reason for escalation", widget=forms.Textarea(attrs={"rows": 3})
    )
    decision_sought = forms.CharField(
        label="Decision sought", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args, spec: WorkflowSpec, level: int, categories: list[ReasonCategory], **kwargs
    ):
        super().__init__(*args, **kwargs)
        higher = [lv for lv in spec.levels if lv.number > level]
        self.fields["to_level"].choices = [
            (lv.number, f"L{lv.number} · {lv.name}") for lv in higher
        ]
        if higher:
            self.fields["to_level"].initial = higher[0].number
        self.fields["category"].choices = [(c.value, c.label) for c in categories]
        self.note_fields = []
        needed_by: dict[str, list[int]] = {}
        for lv in higher:
            for name in lv.handoff_fields:
                needed_by.setdefault(name, []).append(lv.number)
        for name, levels in needed_by.items():
            key = f"note_{name}"
            self.fields[key] = forms.CharField(
                label=field_label(name),
                required=False,
                widget=forms.Textarea(
                    attrs={"rows": 2, "data-levels": " ".join(str(n) for n in levels)}
                ),
                help_text="Needed for " + ", ".join(f"L{n}" for n in levels),
            )
            self.note_fields.append(key)
        if "note_decision_sought" in self.fields:
            # The level asks for it in the note: one field, not two.
            del self.fields["decision_sought"]
        self.check_fields = []
        for key, label in CHECKLIST.items():
            self.fields[f"check_{key}"] = forms.BooleanField(label=label, required=False)
            self.check_fields.append(f"check_{key}")

    def note(self) -> dict:
        return {
            key.removeprefix("note_"): self.cleaned_data.get(key, "")
            for key in self.note_fields
            if self.cleaned_data.get(key)
        }

    def checklist(self) -> list[str]:
        return [
            key.removeprefix("check_") for key in self.check_fields if self.cleaned_data.get(key)
        ]

    def note_bound_fields(self):
        return [self[name] for name in self.note_fields]

    def check_bound_fields(self):
        return [self[name] for name in self.check_fields]


class DecisionForm(forms.Form):
    decision = forms.CharField(label="Decision made", widget=forms.Textarea(attrs={"rows": 3}))


class DeEscalateForm(forms.Form):
    to_level = forms.TypedChoiceField(label="Back to", coerce=int)
    reason = forms.CharField(
        label="Why it goes back down", widget=forms.Textarea(attrs={"rows": 2})
    )
    resolution_summary = forms.CharField(
        label="Resolution summary",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was done and what follow-up remains.",
    )

    def __init__(self, *args, spec: WorkflowSpec, level: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_level"].choices = [
            (lv.number, f"L{lv.number} · {lv.name}") for lv in spec.levels if lv.number < level
        ]


class ManagerRequestForm(forms.Form):
    note = forms.CharField(
        label="What the customer said", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- post-incident reviews ----------------------------------------------------------------------


def _lines(items) -> str:
    return "\n".join(items or [])


def _minutes(field_label: str, **kwargs) -> forms.IntegerField:
    return forms.IntegerField(
        label=field_label, min_value=5, max_value=24 * 60, help_text="Minutes.", **kwargs
    )


class ReviewForm(forms.Form):
    """Seed 004's template, one field per paragraph. Lists are one item per line;
    timeline lines read '2026-01-14 14:23 - what happened' in your time zone."""

    owner = forms.ModelChoiceField(
        label="Owner", queryset=active_users(), required=False, help_text="Writes the review."
    )
    customers_impacted = forms.IntegerField(
        label="Customers impacted", min_value=0, max_value=2**31 - 1, required=False
    )
    business_impact = forms.CharField(
        label="Business impact", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    timeline = forms.CharField(
        label="Timeline",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "class": "mono"}),
        help_text="One entry per line: 2026-01-14 14:23 - what happened (the date may be "
        "left out when it is the previous line's).",
    )
    root_cause_what = forms.CharField(
        label="What happened", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    root_cause_why = forms.CharField(
        label="Why it happened", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    root_cause_not_caught = forms.CharField(
        label="Why it was not caught", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    root_cause_key = forms.SlugField(
        label="Root-cause key",
        required=False,
        max_length=80,
        help_text="Short key shared by incidents with the same cause, e.g. db-pool-exhaustion.",
    )
    contributing_factors = forms.CharField(
        label="Contributing factors",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line.",
    )
    went_well = forms.CharField(
        label="What went well",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line.",
    )
    went_poorly = forms.CharField(
        label="What went poorly",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line.",
    )
    prevention_confidence = forms.ChoiceField(
        label="Prevention confidence",
        required=False,
        choices=[("", "—"), *PreventionConfidence.choices],
    )

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident = incident

    @classmethod
    def initial_for(cls, review) -> dict:
        zone = timezone.get_current_timezone()
        return {
            "owner": review.owner_id,
            "customers_impacted": review.customers_impacted,
            "business_impact": review.business_impact,
            "timeline": timeline_lines(review.timeline, zone),
            "root_cause_what": review.root_cause_what,
            "root_cause_why": review.root_cause_why,
            "root_cause_not_caught": review.root_cause_not_caught,
            "root_cause_key": review.root_cause_key,
            "contributing_factors": _lines(review.contributing_factors),
            "went_well": _lines(review.went_well),
            "went_poorly": _lines(review.went_poorly),
            "prevention_confidence": review.prevention_confidence,
        }

    def clean_timeline(self):
        zone = timezone.get_current_timezone()
        first_day = timezone.localtime(self.incident.opened_at, zone).date()
        entries, problems = parse_timeline(self.cleaned_data.get("timeline", ""), zone, first_day)
        if problems:
            raise forms.ValidationError(problems)
        return entries

    def clean_contributing_factors(self):
        return text_items(self.cleaned_data.get("contributing_factors", ""))

    def clean_went_well(self):
        return text_items(self.cleaned_data.get("went_well", ""))

    def clean_went_poorly(self):
        return text_items(self.cleaned_data.get("went_poorly", ""))


class ReturnForm(forms.Form):
    reason = forms.CharField(label="What needs to change", widget=forms.Textarea(attrs={"rows": 2}))


class ActionItemForm(forms.Form):
    title = forms.CharField(label="Action item", max_length=200)
    owner = forms.ModelChoiceField(label="Owner", queryset=active_users())
    due_date = forms.DateField(label="Due date", widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(
        label="Details", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_permanent_fix = forms.BooleanField(
        label="This is the permanent fix", required=False, help_text="Counts for time to fix."
    )


class ActionItemUpdateForm(forms.Form):
    owner = forms.ModelChoiceField(label="Owner", queryset=active_users(), required=False)
    due_date = forms.DateField(
        label="Due date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("", "—"),
            (ActionItemStatus.OPEN.value, ActionItemStatus.OPEN.label),
            (ActionItemStatus.IN_PROGRESS.value, ActionItemStatus.IN_PROGRESS.label),
        ],
    )

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in ("owner", "due_date", "status")):
            raise forms.ValidationError("Change the owner, the due date or the status.")
        return data


class ActionItemCloseForm(forms.Form):
    status = forms.ChoiceField(
        label="Outcome",
        choices=[
            (ActionItemStatus.DONE.value, ActionItemStatus.DONE.label),
            (ActionItemStatus.WONT_DO.value, ActionItemStatus.WONT_DO.label),
        ],
    )
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for won't do.",
    )


class SimilarForm(forms.Form):
    incidents = IdsChoiceField(
        label="Similar incidents",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="Same component or root-cause key; tick the ones that really are similar.",
    )

    def __init__(self, *args, suggestions, **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["incidents"].queryset = Incident.objects.filter(
            pk__in=[incident.pk for incident in suggestions]
        ).order_by("-opened_at")
        self.fields["incidents"].label_from_instance = lambda i: (
            f"{i.reference} · {i.title} ({i.get_status_display().lower()})"
        )


# --- war rooms ---------------------------------------------------------------------------------


class WarRoomActivateForm(forms.Form):
    reason = forms.ChoiceField(label="Why", choices=WarRoomReason.choices)
    commander = forms.ModelChoiceField(label="Incident commander", queryset=active_users())
    technical_lead = forms.ModelChoiceField(
        label="Technical lead", queryset=active_users(), required=False
    )
    customer_liaison = forms.ModelChoiceField(
        label="Customer liaison", queryset=active_users(), required=False
    )
    executive = forms.ModelChoiceField(label="Executive", queryset=active_users(), required=False)
    scribe = forms.ModelChoiceField(label="Scribe", queryset=active_users(), required=False)
    smes = IdsChoiceField(
        label="Subject-matter experts",
        queryset=active_users(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    channel = forms.CharField(
        label="Chat channel or bridge", required=False, max_length=255, help_text="#inc-payments"
    )
    cadence_minutes = _minutes("Status update every", required=False)

    def __init__(self, *args, default_cadence: int | None = None, reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        if default_cadence:
            self.fields[
                "cadence_minutes"
            ].help_text = f"Minutes; {default_cadence} for this severity if left empty."
        if reasons:
            self.fields["reason"].initial = reasons[0]


class WarRoomAssignForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=WarRoomRole.choices)
    user = forms.ModelChoiceField(label="Person", queryset=active_users())
    note = forms.CharField(
        label="Handoff note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when someone holds the role: state, open threads, next decisions.",
    )


class WarRoomDecisionForm(forms.Form):
    decision = forms.CharField(label="Decision", widget=forms.Textarea(attrs={"rows": 2}))


class WarRoomCadenceForm(forms.Form):
    cadence_minutes = _minutes("Status update every")


class WarRoomCloseForm(forms.Form):
    note = forms.CharField(label="Why it stands down", widget=forms.Textarea(attrs={"rows": 2}))


# --- vendor cases ------------------------------------------------------------------------------

_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class VendorCaseForm(forms.Form):
    vendor = forms.CharField(label="Vendor", max_length=80, help_text="AWS, Azure, GCP, Oracle...")
    case_id = forms.CharField(label="Vendor case id", max_length=120)
    severity = forms.CharField(
        label="Vendor severity", max_length=40, help_text="In the vendor's scale: Urgent, Sev A..."
    )
    owner = forms.ModelChoiceField(label="Our owner", queryset=active_users())
    contact = forms.CharField(
        label="Contact or account manager", required=False, max_length=200, help_text=ENGAGE_TAM
    )
    contact_email = forms.EmailField(label="Contact email", required=False)
    summary = forms.CharField(
        label="What we asked", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next_update_expected_at = forms.DateTimeField(
        label="Next update expected", required=False, widget=_LOCAL
    )
    update_every = forms.IntegerField(
        label="Vendor updates every",
        required=False,
        help_text="Minutes (seed 003: request regular updates); each missed interval "
        "reminds the owner once.",
    )
    wait_on_vendor = forms.BooleanField(
        label="Set the incident to waiting on vendor (pauses its clocks per policy)",
        required=False,
    )

    def clean_update_every(self):
        minutes = self.cleaned_data.get("update_every")
        if minutes is None:
            return None
        try:
            return timedelta(minutes=minutes)
        except OverflowError:
            # Far past either limit: the service refuses it in its own words.
            return timedelta.max if minutes > 0 else timedelta.min


class VendorUpdateForm(forms.Form):
    update = forms.CharField(label="What the vendor said", widget=forms.Textarea(attrs={"rows": 2}))
    status = forms.ChoiceField(label="Case status", choices=VendorCaseStatus.choices)
    next_update_expected_at = forms.DateTimeField(
        label="Next update expected", required=False, widget=_LOCAL
    )


class RegulatoryReportRequireForm(forms.Form):
    """Seed 002 "Regulatory Reporting: Report to regulatory bodies if required"."""

    reason = forms.CharField(
        label="Why a report is required",
        max_length=200,
        help_text="e.g. Personal data breach (GDPR Art. 33)",
    )


class RegulatoryReportFileForm(forms.Form):
    reference = forms.CharField(
        label="Regulator's reference",
        max_length=200,
        required=False,
        help_text="The case or submission number the regulator gave, if any.",
    )
