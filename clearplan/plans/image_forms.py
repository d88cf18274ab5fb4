from __future__ import annotations

from typing import Any

from django import forms

from clearplan.plans.image_markup import parse_markup
from clearplan.plans.models import CaseImage

MAX_FILES_AT_ONCE = 20


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.webp,.dcm,image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise forms.ValidationError("Choose one or more pictures to upload.", code="required")
        if len(files) > MAX_FILES_AT_ONCE:
            raise forms.ValidationError(f"Upload at most {MAX_FILES_AT_ONCE} pictures at a time.", code="too_many")
        return list(files)


class ImageUploadForm(forms.Form):
    pictures = MultipleFileField(
        label="Pictures",
        help_text="JPEG, PNG, WebP or DICOM (.dcm) X-rays. You can choose several at once.",
    )
    kind = forms.ChoiceField(label="What they are", choices=CaseImage.Kind.choices, initial=CaseImage.Kind.PHOTO)
    caption = forms.CharField(
        label="Caption", max_length=300, required=False, help_text="Shown under each picture in the pack."
    )

    def __init__(self, *args: Any, prefix_id: str = "upload", **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{prefix_id}-%s")
        super().__init__(*args, **kwargs)

    def add_file_error(self, message: str) -> None:
        self.add_error("pictures", message)


class CaptionForm(forms.Form):
    caption = forms.CharField(
        label="Caption",
        max_length=300,
        required=False,
        help_text="A few plain words for the patient, such as “The darker area is decay under the old filling.”",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MarkupForm(forms.Form):
    markup = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_markup(self) -> list[dict[str, Any]]:
        return parse_markup(self.cleaned_data.get("markup") or "[]")
