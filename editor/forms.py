"""Input of the editor's endpoints. The forms only parse and shape the request; every
business rule (overlaps, source bounds, locked tracks, ownership of media) is checked by
editor.services, whose ValidationError messages reach the user as they are."""

from __future__ import annotations

from django import forms

from editor.models import Export, Timeline
from editor.services.timelines import FPS_CHOICES
from project import ids

MAX_IDS = 500


def IdListField(**kwargs):  # noqa: N802 - reads as the field class it builds
    """Comma-separated clip ids ("4,9,12") -> [4, 9, 12], each a bounded database id."""
    return ids.IdListField(max_ids=MAX_IDS, noun="clip", **kwargs)


class SecondsField(forms.FloatField):
    """Seconds on the timeline or in a source: finite (FloatField refuses inf/nan)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 6 * 3600)
        super().__init__(**kwargs)


def first_error(form: forms.Form) -> str:
    """One plain sentence naming the field, for the 400 body."""
    for name, errors in form.errors.items():
        if name == "__all__":
            return str(errors[0])
        label = form.fields[name].label or name.replace("_", " ")
        return f"{label[:1].upper()}{label[1:]}: {errors[0]}"
    return "The request was not understood."


class TimelineCreateForm(forms.Form):
    name = forms.CharField(max_length=120, required=False)
    preset = forms.ChoiceField(choices=Timeline.Preset.choices, label="size")

    def clean_name(self):
        return self.cleaned_data["name"].strip() or "Untitled timeline"


class TimelineRenameForm(forms.Form):
    name = forms.CharField(max_length=120)


class ClipAddForm(forms.Form):
    media_id = ids.IdField(label="media item")
    track_id = ids.IdField(required=False, label="track")
    # No track means "dropped below the last track": the service makes a new one.
    start = SecondsField(label="start time")


class ClipMoveForm(forms.Form):
    clip_id = ids.IdField(label="clip")
    start = SecondsField(label="start time")
    track_id = ids.IdField(required=False, label="track")
    new_track = forms.BooleanField(required=False)


class ClipsShiftForm(forms.Form):
    clip_ids = IdListField(label="clips")
    delta = forms.FloatField(min_value=-6 * 3600, max_value=6 * 3600, label="shift")


class ClipTrimForm(forms.Form):
    clip_id = ids.IdField(label="clip")
    edge = forms.ChoiceField(choices=[("in", "in"), ("out", "out")])
    point = SecondsField(label="trim point")


class ClipsForm(forms.Form):
    clip_ids = IdListField(label="clips")
    ripple = forms.BooleanField(required=False)


class SplitForm(forms.Form):
    at = SecondsField(label="split time")
    clip_ids = IdListField(label="clips", required=False)


class PasteForm(forms.Form):
    clip_ids = IdListField(label="clips")
    at = SecondsField(label="paste time")


class ClipPropForm(forms.Form):
    """One property of one clip (the inspector): a fade in seconds or the volume as a
    linear gain. `value` stays text here so a non-number is refused with the field's own
    sentence ("The fade in must be a number of seconds.") by the service."""

    FIELDS = {"fade_in": "fade in", "fade_out": "fade out", "volume": "volume"}

    clip_id = ids.IdField(label="clip")
    field = forms.ChoiceField(choices=list(FIELDS.items()), label="property")
    value = forms.CharField(max_length=32, label="value", strip=True)


class TrackToggleForm(forms.Form):
    field = forms.ChoiceField(
        choices=[("muted", "muted"), ("hidden", "hidden"), ("locked", "locked")]
    )
    value = forms.TypedChoiceField(
        choices=[("1", "on"), ("0", "off")], coerce=lambda v: v == "1", label="value"
    )


def _fps_label(value: float) -> str:
    return f"{value:g} fps"


class ExportForm(forms.Form):
    preset = forms.ChoiceField(choices=Export.Preset.choices, label="size")
    fps = forms.TypedChoiceField(
        choices=[(f"{v:g}", _fps_label(v)) for v in FPS_CHOICES], coerce=float, label="frame rate"
    )
    file_name = forms.CharField(max_length=120, label="file name")

    @classmethod
    def for_timeline(cls, timeline: Timeline) -> ExportForm:
        return cls(
            initial={
                "preset": Export.Preset.P1080,
                "fps": f"{timeline.fps:g}",
                "file_name": timeline.name,
            }
        )
