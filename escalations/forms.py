from django import forms

from .handoff import CHECKLIST, field_label
from .models import ENGINEER_CATEGORIES, MANAGEMENT_CATEGORIES
from .spec import WorkflowSpec


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

    def __init__(self, *args, spec: WorkflowSpec, level: int, management: bool, **kwargs):
        super().__init__(*args, **kwargs)
        higher = [lv for lv in spec.levels if lv.number > level]
        self.fields["to_level"].choices = [
            (lv.number, f"L{lv.number} · {lv.name}") for lv in higher
        ]
        if higher:
            self.fields["to_level"].initial = higher[0].number
        categories = ENGINEER_CATEGORIES + (MANAGEMENT_CATEGORIES if management else [])
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
