"""The shape of one catalog entry, and how resolution + aspect ratio become pixels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generation.pricing import PriceRule

TEXT_TO_VIDEO = "text-to-video"
IMAGE_TO_VIDEO = "image-to-video"
# Takes a first and a last frame and generates what lies between them.
FIRST_LAST_FRAME = "first-last-frame"
KINDS = (TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME)

AUDIO_NONE = "none"  # the model makes silent video
AUDIO_OPTIONAL = "optional"  # the creator chooses; may change the price
AUDIO_ALWAYS = "always"


@dataclass(frozen=True)
class ImageLimits:
    """What a model accepts as an input image. A still outside these is converted or
    downscaled (Pillow) before it is uploaded, so the provider never refuses it."""

    formats: tuple[str, ...] = ("jpeg", "png", "webp")  # Pillow format names, lower case
    max_side: int = 4096  # longest side in pixels
    max_bytes: int = 10 * 1024 * 1024


DEFAULT_IMAGE_LIMITS = ImageLimits()


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
    min_prompt_chars: int = 1
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
    image_field: str | None = None  # the start image (first frame)
    end_image_field: str | None = None  # the last frame, where the model takes one
    image_limits: ImageLimits = DEFAULT_IMAGE_LIMITS
    fixed_input: dict[str, Any] = field(default_factory=dict)
    family: str = ""  # groups variants in the composer ("Veo 3.1", "Kling 2.6")
    # The provider no longer serves it: old jobs stay readable, the composer hides it and
    # new requests are refused.
    retired: bool = False

    @property
    def needs_image(self) -> bool:
        return self.kind in (IMAGE_TO_VIDEO, FIRST_LAST_FRAME)

    @property
    def takes_end_image(self) -> bool:
        return self.end_image_field is not None

    @property
    def needs_end_image(self) -> bool:
        return self.kind == FIRST_LAST_FRAME

    @property
    def audio_choice(self) -> bool:
        return self.audio == AUDIO_OPTIONAL


# Resolutions named by their marketing name rather than their short side.
_NAMED_SIDES = {"4k": 2160, "2k": 1440}


def short_side(resolution: str) -> int:
    """'720p' -> 720, '768P' -> 768, '4k' -> 2160."""
    name = resolution.lower()
    if name in _NAMED_SIDES:
        return _NAMED_SIDES[name]
    return int(name.rstrip("p"))


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
