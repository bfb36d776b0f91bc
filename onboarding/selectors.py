"""What the first-run checklist shows, computed from the user's own rows each time (three
EXISTS queries), so a step ticks however it was done: the composer, the API, another tab."""

from __future__ import annotations

from dataclasses import dataclass

from editor.models import Clip, Export
from generation.models import GenerationJob
from media_library.models import MediaItem

from .models import FirstRunState


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    hint: str
    done: bool


@dataclass(frozen=True)
class Checklist:
    steps: tuple[Step, ...]
    dismissed: bool

    @property
    def done_count(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def complete(self) -> bool:
        return all(step.done for step in self.steps)


def first_run_dismissed(*, user) -> bool:
    return FirstRunState.objects.filter(user=user, dismissed_at__isnull=False).exists()


def first_run_checklist(*, user) -> Checklist:
    # A generation job counts from its creation (the clip follows by itself); an upload
    # counts too, since it also gives the user a clip to put on the timeline.
    generated = (
        GenerationJob.objects.filter(owner=user).exists()
        or MediaItem.objects.filter(owner=user).exists()
    )
    placed = Clip.objects.filter(track__timeline__owner=user).exists()
    exported = Export.objects.filter(owner=user).exists()
    steps = (
        Step(
            "generate",
            "Generate a clip",
            "Write a prompt in Generate and press Generate (or upload a file in Media).",
            generated,
        ),
        Step(
            "timeline",
            "Drag it to the timeline",
            "Drag a clip from Media onto a track (or choose Add to timeline in its ⋯ menu).",
            placed,
        ),
        Step("export", "Export", "Press Export in the editor to render the film.", exported),
    )
    return Checklist(steps=steps, dismissed=first_run_dismissed(user=user))
