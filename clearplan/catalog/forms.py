"""Forms for the catalogue and fee schedules. Each problem is explained at its own field."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile

from clearplan.accounts.models import Organisation
from clearplan.catalog import codefile
from clearplan.catalog.fees import parse_amount
from clearplan.catalog.models import (
    MAX_GAP_WEEKS,
    Category,
    FeeSchedule,
    Procedure,
    ProcedureDependency,
    normalise_code,
)
from clearplan.catalog.services import PROCEDURE_FIELDS


class MoneyField(forms.Field):
    """A fee as staff type it: "180", "180.50", "$1,250". Never a float on the way through."""

    widget = forms.TextInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parse_amount(value)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from error


class ProcedureFilterForm(forms.Form):
    """Search and filters for the procedure list. Codes and names are not patient data, so they
    travel in the address and a filtered list can be bookmarked."""

    q = forms.CharField(
        label="Code or name",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "For example 531 or crown"}),
    )
    category = forms.ChoiceField(label="Category", required=False, choices=[("", "All categories"), *Category.choices])
    retired = forms.BooleanField(label="Include retired items", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "filter-%s")
        super().__init__(*args, **kwargs)

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {"text": "", "category": "", "include_retired": False}
        return {
            "text": self.cleaned_data["q"].strip(),
            "category": self.cleaned_data["category"],
            "include_retired": self.cleaned_data["retired"],
        }

    @property
    def is_filtered(self) -> bool:
        filters = self.filters()
        return bool(filters["text"] or filters["category"] or filters["include_retired"])


class ProcedureForm(forms.ModelForm):
    class Meta:
        model = Procedure
        fields = PROCEDURE_FIELDS
        widgets = {
            "patient_explanation": forms.Textarea(attrs={"rows": 3}),
            "licensed_description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        kwargs.setdefault("instance", Procedure(organisation=organisation))
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        labels = {
            "code": "Code",
            "coding_system": "Code system",
            "name": "Name",
            "category": "Category",
            "treatment_area": "Done on",
            "surfaces_min": "Fewest surfaces",
            "surfaces_max": "Most surfaces",
            "default_chair_minutes": "Usual chair time (minutes)",
            "usually_elective": "Usually elective",
            "patient_explanation": "Explanation for patients",
            "licensed_description": "Licensed description",
        }
        for name, label in labels.items():
            self.fields[name].label = label
        self.fields["code"].help_text = "The item number or code, such as 011 or D0120. Unique in your catalogue."
        self.fields["code"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        self.fields["name"].help_text = "Plain words staff and patients understand, such as “Ceramic crown”."
        self.fields["surfaces_min"].help_text = "Only for work on a tooth and its surfaces; leave empty for any number."
        self.fields["surfaces_max"].help_text = "For a “two surfaces” filling, enter 2 in both."
        self.fields["patient_explanation"].help_text = "Shown in the patient's pack. One or two short sentences."
        self.fields[
            "licensed_description"
        ].help_text = (
            "The wording from your licensed code list, for the team only. “Import descriptions” fills this in."
        )
        self.fields["default_chair_minutes"].error_messages.update(
            {"min_value": "Enter at least 1 minute.", "max_value": "Enter 600 minutes (10 hours) or less."}
        )
        for name in ("surfaces_min", "surfaces_max"):
            self.fields[name].error_messages.update(
                {"min_value": "Enter a number from 1 to 5.", "max_value": "A tooth has at most 5 surfaces."}
            )
        self.fields["code"].error_messages["required"] = "Enter the procedure's code."
        self.fields["name"].error_messages["required"] = "Enter a name staff and patients will understand."
        self.fields["category"].error_messages["required"] = "Choose a category."
        self.fields["treatment_area"].error_messages["required"] = "Choose what the procedure is done on."

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data.get("code", ""))
        taken = Procedure.objects.filter(organisation=self.organisation, code=code).exclude(pk=self.instance.pk).first()
        if taken is not None:
            retired = " (retired — restore it instead)" if taken.is_retired else ""
            raise forms.ValidationError(f"Code {code} is already used by “{taken.name}”{retired}.")
        return code

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in PROCEDURE_FIELDS}


class ProcedureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.name}"


class DependencyForm(forms.Form):
    requires_procedure = ProcedureChoiceField(
        label="After this procedure",
        queryset=Procedure.objects.none(),
        required=False,
        to_field_name="public_id",
        empty_label="Choose a procedure…",
    )
    requires_category = forms.ChoiceField(
        label="Or after any procedure in this category",
        required=False,
        choices=[("", "Choose a category…"), *Category.choices],
    )
    site = forms.ChoiceField(label="Where", choices=ProcedureDependency.Site.choices)
    min_gap_weeks = forms.IntegerField(
        label="Weeks to wait at least",
        min_value=0,
        max_value=MAX_GAP_WEEKS,
        initial=0,
        help_text="0 if it can follow straight away.",
        error_messages={
            "required": "Enter the weeks to wait; 0 if it can follow straight away.",
            "min_value": "Enter 0 or more weeks.",
            "max_value": f"Enter {MAX_GAP_WEEKS} weeks (two years) or less.",
        },
    )
    note = forms.CharField(
        label="Why",
        required=False,
        max_length=300,
        help_text="One sentence for the team, such as “The bone needs three months to heal”.",
    )

    def __init__(self, *args: Any, procedure: Procedure, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        field = cast(ProcedureChoiceField, self.fields["requires_procedure"])
        field.queryset = (
            Procedure.objects.filter(organisation_id=procedure.organisation_id)
            .active()
            .exclude(pk=procedure.pk)
            .order_by("code")
        )
        field.error_messages["invalid_choice"] = "Choose a procedure from the list."
        self.fields["min_gap_weeks"].widget.attrs["inputmode"] = "numeric"
        if not procedure.needs_tooth:
            self.initial.setdefault("site", ProcedureDependency.Site.ANYWHERE)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen_procedure = cleaned.get("requires_procedure")
        chosen_category = cleaned.get("requires_category")
        if "requires_procedure" in self.errors or "requires_category" in self.errors:
            return cleaned
        if chosen_procedure and chosen_category:
            self.add_error("requires_category", "Choose a procedure or a category, not both.")
        elif not chosen_procedure and not chosen_category:
            self.add_error("requires_procedure", "Choose the procedure (or category) that must come first.")
        return cleaned


class DescriptionImportForm(forms.Form):
    file = forms.FileField(
        label="Code list (CSV file)",
        help_text="Columns for the code and the description, with a heading line such as “code,description”. "
        "Up to 2 MB.",
        error_messages={"required": "Choose the CSV file to import.", "empty": "This file is empty."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".csv,.txt,.tsv,text/csv"

    def clean_file(self) -> codefile.CodeFile:
        upload = cast(UploadedFile, self.cleaned_data["file"])
        try:
            codefile.check_name(upload.name or "")
            if upload.size is not None and upload.size > codefile.MAX_FILE_BYTES:
                raise codefile.CodeFileError(
                    "This file is larger than 2 MB. A code list is usually much smaller; check it is the right file."
                )
            content = upload.read(codefile.MAX_FILE_BYTES + 1)
            return codefile.read_code_file(content)
        except codefile.CodeFileError as error:
            raise forms.ValidationError(str(error)) from error


class FeeScheduleForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="For example “Standard”, “Concession” or “HCF members”.",
        error_messages={"required": "Enter a name for the schedule."},
    )
    kind = forms.ChoiceField(label="Kind of schedule", choices=FeeSchedule.Kind.choices)
    description = forms.CharField(
        label="Who it is for",
        required=False,
        max_length=300,
        help_text="For example “Pension and health-care card holders”.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "off"
        self.fields["description"].widget.attrs["autocomplete"] = "off"


def fee_field_name(procedure: Procedure) -> str:
    return f"fee_{procedure.public_id.hex}"


class FeesForm(forms.Form):
    """New fees for many procedures at once, all from one date. Empty fields are left unchanged."""

    effective_from = forms.DateField(
        label="New fees apply from",
        help_text="Plans and quotes for earlier days keep the fees that applied then.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"required": "Choose the date the new fees start.", "invalid": "Enter a date."},
    )

    def __init__(self, *args: Any, procedures: Sequence[Procedure], currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.procedures = list(procedures)
        for procedure in self.procedures:
            self.fields[fee_field_name(procedure)] = MoneyField(
                label=f"New fee for {procedure.code} {procedure.name}, in {currency}",
                required=False,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not self.amounts():
            raise forms.ValidationError("Type at least one new fee. Empty boxes leave fees as they are.")
        return cleaned

    def fee_field(self, procedure: Procedure) -> forms.BoundField:
        return self[fee_field_name(procedure)]

    def amounts(self) -> dict[Procedure, Decimal]:
        """The fees typed in, by procedure."""
        return {
            procedure: self.cleaned_data[fee_field_name(procedure)]
            for procedure in self.procedures
            if self.cleaned_data.get(fee_field_name(procedure)) is not None
        }

    @property
    def effective_date(self) -> date:
        return cast(date, self.cleaned_data["effective_from"])
