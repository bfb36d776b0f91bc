"""From prompt words to a look: palette, scene, motion. Deterministic for (prompt, seed)."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field

RGB = tuple[int, int, int]

# scene -> words that choose it (first match by position in the prompt wins)
SCENE_WORDS: dict[str, tuple[str, ...]] = {
    "ocean": (
        "ocean",
        "sea",
        "wave",
        "waves",
        "beach",
        "surf",
        "coast",
        "lake",
        "water",
        "underwater",
    ),
    "city": (
        "city",
        "street",
        "skyline",
        "urban",
        "building",
        "buildings",
        "downtown",
        "neon",
        "traffic",
        "tokyo",
        "york",
    ),
    "nature": (
        "nature",
        "forest",
        "tree",
        "trees",
        "meadow",
        "mountain",
        "mountains",
        "field",
        "hills",
        "garden",
        "valley",
        "grass",
        "jungle",
    ),
    "space": ("space", "galaxy", "planet", "stars", "cosmos", "nebula", "astronaut", "orbit"),
    "desert": ("desert", "dune", "dunes", "sand", "canyon", "sahara"),
    "snow": ("snow", "snowy", "snowfall", "winter", "ice", "frozen", "arctic", "blizzard"),
    "fire": ("fire", "flame", "flames", "lava", "volcano", "explosion", "ember"),
    "abstract": (
        "abstract",
        "pattern",
        "geometric",
        "shapes",
        "fractal",
        "psychedelic",
        "kaleidoscope",
    ),
}
NIGHT_WORDS = ("night", "midnight", "moon", "moonlit", "dark", "evening", "nocturnal")
SUNSET_WORDS = ("sunset", "sunrise", "dusk", "dawn", "golden")
FAST_WORDS = (
    "fast",
    "rush",
    "racing",
    "storm",
    "stormy",
    "chase",
    "speed",
    "wild",
    "chaotic",
    "energetic",
)
SLOW_WORDS = ("slow", "calm", "gentle", "peaceful", "serene", "quiet", "still", "drifting")
RAIN_WORDS = ("rain", "rainy", "storm", "stormy", "drizzle")

# scene -> (sky top, sky bottom, ground/accent, highlight) by day
PALETTES: dict[str, tuple[RGB, RGB, RGB, RGB]] = {
    "ocean": ((40, 110, 190), (150, 210, 240), (20, 80, 150), (255, 240, 200)),
    "city": ((60, 70, 120), (230, 150, 110), (35, 35, 50), (255, 210, 120)),
    "nature": ((90, 160, 230), (200, 230, 250), (60, 130, 60), (255, 245, 190)),
    "space": ((5, 5, 20), (30, 20, 60), (120, 80, 180), (255, 255, 255)),
    "desert": ((120, 170, 230), (250, 220, 170), (215, 160, 90), (255, 250, 220)),
    "snow": ((160, 190, 220), (235, 240, 250), (245, 248, 255), (255, 255, 255)),
    "fire": ((40, 10, 10), (200, 70, 20), (255, 140, 30), (255, 230, 120)),
    "abstract": ((30, 20, 60), (90, 40, 120), (240, 90, 140), (90, 220, 230)),
}


@dataclass(frozen=True)
class Look:
    scene: str
    sky_top: RGB
    sky_bottom: RGB
    ground: RGB
    highlight: RGB
    night: bool = False
    sunset: bool = False
    rain: bool = False
    speed: float = 1.0  # motion multiplier
    horizon: float = 0.62  # share of the height above the ground line
    pan: float = 1.0  # camera drift direction (+1 right, -1 left)
    seed: int = 0
    words: tuple[str, ...] = field(default_factory=tuple)

    @property
    def minor(self) -> bool:
        """Night, space and fire scenes get a minor chord."""
        return self.night or self.scene in ("space", "fire")


def _words(prompt: str) -> list[str]:
    return re.findall(r"[a-z]+", prompt.lower())


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """The colour `t` of the way from `a` to `b` (0 is a, 1 is b)."""
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _jitter(rng: random.Random, color: RGB, amount: int = 18) -> RGB:
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in color)  # type: ignore[return-value]


def look_for(prompt: str, seed: int) -> Look:
    words = _words(prompt)
    scene = ""
    for word in words:
        for name, triggers in SCENE_WORDS.items():
            if word in triggers:
                scene = name
                break
        if scene:
            break
    # Unknown words still give a stable, prompt-specific scene and palette.
    digest = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:8], "big")
    rng = random.Random(digest ^ (seed * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF))
    if not scene:
        scene = rng.choice(sorted(SCENE_WORDS))
    sky_top, sky_bottom, ground, highlight = (_jitter(rng, c) for c in PALETTES[scene])
    night = any(w in NIGHT_WORDS for w in words)
    sunset = any(w in SUNSET_WORDS for w in words)
    if sunset:
        sky_top = mix(sky_top, (120, 60, 110), 0.6)
        sky_bottom = mix(sky_bottom, (250, 150, 70), 0.7)
    if night:
        sky_top = mix(sky_top, (3, 5, 20), 0.85)
        sky_bottom = mix(sky_bottom, (20, 25, 60), 0.8)
        ground = mix(ground, (5, 8, 15), 0.7)
    speed = 1.0
    if any(w in FAST_WORDS for w in words):
        speed = 2.2
    elif any(w in SLOW_WORDS for w in words):
        speed = 0.45
    return Look(
        scene=scene,
        sky_top=sky_top,
        sky_bottom=sky_bottom,
        ground=ground,
        highlight=highlight,
        night=night,
        sunset=sunset,
        rain=any(w in RAIN_WORDS for w in words),
        speed=speed * rng.uniform(0.85, 1.15),
        horizon=rng.uniform(0.55, 0.7),
        pan=rng.choice((-1.0, 1.0)),
        seed=seed,
        words=tuple(words[:50]),
    )
