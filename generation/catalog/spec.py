"""The shape of one catalog entry, and how resolution + aspect ratio become pixels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generation.pricing import PriceRule

TEXT_TO_VIDEO = "text-to-video"
IMAGE_TO_VIDEO = "image-to-video"

AUDIO_NONE = "none"  # the model makes silent video
AUDIO_OPTIONAL = "optional"  # the creator chooses; may change the price
AUDIO_ALWAYS = "always"


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    provider: str  # "fal" | "replicate" | "local"
    endpoint: str  # fal endpoint id, Replicate "owner/name" or "owner/name:version"
    kind: str
    durations: tuple[int, ...]  # seconds offered, first is the default
    resolutions: tuple[str, ...]  # first is the default
    aspect_ratios: tuple[str, ...]  # first is the default
    price: PriceRule
    price_date: str  # when the figure was read
    price_source: str  # where it was read
    price_note: str = ""  # how sure we are of it (see README)
    audio: str = AUDIO_NONE
    audio_default: bool = False
    negative_prompt: bool = False
    seed: bool = False
    max_prompt_chars: int = 2000
    fps: int = 24
    typical_run_s: int = 120  # for the ETA shown while running
    time_limit_s: int = 1800  # a job running longer than this is failed as a timeout
    description: str = ""
    # How the normalised params are spelled in the provider's input (see providers/inputs.py).
    duration_field: str | None = "duration"
    duration_format: str = "{s}"
    resolution_field: str | None = "resolution"
    aspect_field: str | None = "aspect_ratio"
    audio_field: str | None = None
    image_field: str | None = None
    fixed_input: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_image(self) -> bool:
        return self.kind == IMAGE_TO_VIDEO

    @property
    def audio_choice(self) -> bool:
        return self.audio == AUDIO_OPTIONAL


def short_side(resolution: str) -> int:
    """'720p' -> 720, '768P' -> 768."""
    digits = resolution.lower().rstrip("p")
    return int(digits)


def dimensions(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """Pixel size of a clip: the resolution names the short side, the ratio the shape.

    Providers round to their own grids (Hailuo 768P is 1366×768); this is the figure used
    for token pricing and the local renderer, even so H.264 can encode it.
    """
    side = short_side(resolution)
    a, b = (int(x) for x in aspect_ratio.split(":"))
    if a >= b:
        width, height = side * a / b, side
    else:
        width, height = side, side * b / a
    return _even(width), _even(height)


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)
