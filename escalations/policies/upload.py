"""Loading workflow YAML from the policy admin: the command line's `load_workflow`, in a form.

Same parser, same `file:line: path: problem` lines, same rule for the name: an
exported `support-3-tier-v1.yaml` becomes the next version of `support-3-tier`.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from escalations.models import Policy
from escalations.policies import services as policies
from escalations.policies.workflow_yaml import WorkflowError

MAX_BYTES = 1024 * 1024  # a workflow is a few kilobytes; anything near this is a mistake


class WorkflowUploadForm(forms.Form):
    file = forms.FileField(
        label="Workflow YAML",
        help_text="An escalation: block (seed 001), or a file exported from a policy here.",
        widget=forms.ClearableFileInput(attrs={"accept": ".yaml,.yml,application/yaml"}),
    )
    name = forms.SlugField(
        label="Policy name",
        required=False,
        help_text="Leave empty: named after the file (support-3-tier-v1.yaml: support-3-tier).",
    )
    activate = forms.TypedChoiceField(
        label="Then",
        coerce=lambda value: value == "activate",
        choices=[
            ("draft", "Keep it as a draft to review (activate it from the list)"),
            ("activate", "Activate it now (the previous version retires)"),
        ],
        initial="draft",
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(f"{upload.name}: larger than {MAX_BYTES // 1024} KB.")
        raw = upload.read()
        try:
            self.text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(f"{upload.name}: not UTF-8 text.") from None
        return upload

    def load(self, *, actor) -> Policy:
        """Store the file as a new version; ValidationError lists every problem."""

        try:
            return policies.policy_load_workflow(
                text=self.text,
                filename=self.cleaned_data["file"].name,
                actor=actor,
                name=self.cleaned_data["name"] or None,
                activate=self.cleaned_data["activate"],
            )
        except WorkflowError as error:
            raise ValidationError([str(problem) for problem in error.problems]) from None
