"""Built-in prompt templates, as data.

Each template is a specific, shootable description — subject, action, setting, light,
lens and camera movement — because video models reward concrete direction far more than
adjectives. The panel lists them by category, searches them, and inserts them into the
prompt box. A user's own saved templates are rows of the generation.models.PromptTemplate
model; a built-in one is a BuiltinTemplate (two names for two things).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuiltinTemplate:
    """One of the shipped templates (data in code, not a database row)."""

    slug: str
    category: str
    title: str
    prompt: str
    negative_prompt: str = ""
    # The framing the shot was written for; the composer may suggest it, never forces it.
    aspect_ratio: str = "16:9"


CATEGORIES: tuple[str, ...] = (
    "Nature",
    "Urban",
    "Abstract",
    "Cinematic",
    "Product",
    "Character",
    "Food",
    "Sci-fi",
)

_NO_TEXT = "text, watermark, logo, subtitles, blurry, distorted hands, extra limbs"

BUILTIN_TEMPLATES: tuple[BuiltinTemplate, ...] = (
    # --- Nature --------------------------------------------------------------------------
    BuiltinTemplate(
        "misty-pine-forest",
        "Nature",
        "Misty pine forest at dawn",
        "Slow dolly forward through a misty pine forest at dawn, low golden sunbeams cutting "
        "through the fog between the trunks, dew glistening on ferns in the foreground, "
        "birds crossing far in the background, soft volumetric light, 35mm lens, calm and quiet.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "ocean-cliff-storm",
        "Nature",
        "Waves against a cliff in a storm",
        "Wide aerial shot of huge grey-green waves exploding against a black basalt cliff "
        "during a storm, sea spray blown sideways by the wind, dark low clouds racing overhead, "
        "the drone slowly orbits the headland, dramatic natural light.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "alpine-lake-timelapse",
        "Nature",
        "Alpine lake timelapse",
        "Timelapse of clouds streaming over snow-capped peaks reflected in a perfectly still "
        "turquoise alpine lake, shadows sweeping across the valley, late afternoon turning "
        "to pink alpenglow, locked-off tripod shot, crisp 4K detail.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "macro-dew-leaf",
        "Nature",
        "Macro dewdrop on a leaf",
        "Extreme macro of a single dewdrop sliding down the vein of a bright green leaf, the "
        "whole garden refracted upside down inside the drop, shallow depth of field, morning "
        "backlight, slow rack focus from the drop to the leaf edge.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "desert-dunes-wind",
        "Nature",
        "Wind over desert dunes",
        "Low-angle tracking shot along the sharp crest of a Sahara sand dune at sunset, wind "
        "lifting fine ribbons of sand off the ridge, long shadows in the ripples, warm orange "
        "light, heat shimmer on the horizon.",
        _NO_TEXT,
        "21:9",
    ),
    # --- Urban -----------------------------------------------------------------------------
    BuiltinTemplate(
        "neon-rain-alley",
        "Urban",
        "Neon alley in the rain",
        "Handheld walk down a narrow Tokyo alley at night in the rain, neon signs in pink and "
        "cyan reflected in the puddles, steam rising from a ramen stall, people with clear "
        "umbrellas passing by, shallow depth of field, 50mm lens.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "rooftop-golden-hour",
        "Urban",
        "Rooftop skyline at golden hour",
        "Slow pan across a dense city skyline from a rooftop at golden hour, glass towers "
        "catching the sun, a few windows lighting up, birds circling a water tower, warm haze, "
        "telephoto compression.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "subway-arrival",
        "Urban",
        "Subway train arriving",
        "A subway train rushing into a tiled underground station, motion blur on the carriages, "
        "fluorescent light flickering, commuters stepping back from the platform edge, a "
        "newspaper page lifted by the draught, static camera at platform level.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "crosswalk-top-down",
        "Urban",
        "Top-down crosswalk crowd",
        "Top-down drone shot of a busy zebra crossing, hundreds of pedestrians flowing in "
        "every direction when the lights change, long late-afternoon shadows stretching "
        "across the white stripes, timelapse at 4x speed.",
        _NO_TEXT,
        "1:1",
    ),
    BuiltinTemplate(
        "cafe-window-morning",
        "Urban",
        "Street café window",
        "Through the window of a Paris street café in the morning, a barista pulling an "
        "espresso in the foreground, cyclists and a green bus passing outside, soft "
        "reflections on the glass, gentle push-in, natural light.",
        _NO_TEXT,
    ),
    # --- Abstract --------------------------------------------------------------------------
    BuiltinTemplate(
        "ink-in-water",
        "Abstract",
        "Ink blooming in water",
        "Ultra slow motion of deep blue and gold ink dropped into clear water, billowing "
        "clouds curling and folding into each other against a pure white background, "
        "high-speed camera, crisp detail.",
        "text, watermark, hands, containers",
    ),
    BuiltinTemplate(
        "liquid-chrome",
        "Abstract",
        "Liquid chrome waves",
        "Rippling liquid chrome surface forming smooth waves and droplets, reflecting a "
        "gradient studio sky of violet and teal, seamless loop, macro lens, glossy and "
        "hypnotic motion.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "geometric-morph",
        "Abstract",
        "Morphing geometry",
        "Minimal 3D render of matte pastel geometric shapes — spheres, cubes and tori — "
        "smoothly morphing into one another on an infinite white floor, soft shadows, slow "
        "orbiting camera, satisfying rhythm.",
        _NO_TEXT,
        "1:1",
    ),
    BuiltinTemplate(
        "particle-aurora",
        "Abstract",
        "Particle aurora",
        "Millions of glowing particles flowing like an aurora in curling ribbons of green and "
        "magenta across a black void, depth of field with bokeh in the foreground, slow "
        "drifting camera.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "paper-layers",
        "Abstract",
        "Paper-cut layers",
        "Layered paper-cut landscape in warm autumn colours, each layer gently parallaxing as "
        "the camera slides sideways, soft shadows between the sheets, tactile stop-motion feel.",
        _NO_TEXT,
    ),
    # --- Cinematic -------------------------------------------------------------------------
    BuiltinTemplate(
        "noir-detective",
        "Cinematic",
        "Film-noir office",
        "Black-and-white film-noir shot of a detective in a fedora lighting a cigarette at his "
        "desk, venetian-blind shadows striping the wall, smoke curling in a hard key light, "
        "slow push-in, 1940s anamorphic look.",
        _NO_TEXT,
        "21:9",
    ),
    BuiltinTemplate(
        "desert-chase",
        "Cinematic",
        "Desert car chase",
        "Low tracking shot beside a dusty vintage muscle car racing across a desert salt flat, "
        "a second car closing in behind, plumes of dust, harsh midday sun, anamorphic lens "
        "flares, high-energy action.",
        _NO_TEXT,
        "21:9",
    ),
    BuiltinTemplate(
        "candlelit-letter",
        "Cinematic",
        "Candlelit letter",
        "A woman in a period dress reading a handwritten letter by candlelight in a stone "
        "room, tears forming, flickering warm light on her face, close-up, shallow depth of "
        "field, slow and intimate.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "epic-reveal-valley",
        "Cinematic",
        "Epic valley reveal",
        "A lone rider on horseback crests a ridge, the camera cranes up over their shoulder to "
        "reveal a vast green valley with a ruined castle under storm light, sweeping and epic, "
        "golden rim light.",
        _NO_TEXT,
        "21:9",
    ),
    BuiltinTemplate(
        "train-window-dusk",
        "Cinematic",
        "Night train window",
        "Close-up of a traveller's reflection in a night-train window, countryside lights "
        "streaking past outside, warm interior light, gentle sway of the carriage, melancholic "
        "mood, 85mm lens.",
        _NO_TEXT,
    ),
    # --- Product ---------------------------------------------------------------------------
    BuiltinTemplate(
        "perfume-splash",
        "Product",
        "Perfume bottle with splash",
        "A faceted glass perfume bottle on a black mirror surface, a crown of water splashing "
        "around it in slow motion, crisp rim lighting, drifting rose petals, slow orbit, luxury "
        "commercial look.",
        _NO_TEXT,
        "9:16",
    ),
    BuiltinTemplate(
        "sneaker-turntable",
        "Product",
        "Sneaker on a turntable",
        "A white running sneaker rotating on a turntable against a seamless coral backdrop, "
        "soft studio light, fine mesh texture visible, subtle shadow, 360° product spin, "
        "clean e-commerce style.",
        _NO_TEXT,
        "1:1",
    ),
    BuiltinTemplate(
        "watch-macro",
        "Product",
        "Mechanical watch macro",
        "Macro shot moving across the face of a mechanical wristwatch, the second hand ticking, "
        "gears visible through the sapphire caseback, polished steel catching a moving light, "
        "dark background.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "headphones-float",
        "Product",
        "Floating headphones",
        "Matte black wireless headphones floating and slowly rotating in mid-air, surrounded "
        "by gentle sound-wave ripples of light, gradient blue backdrop, premium tech commercial.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "skincare-water",
        "Product",
        "Skincare jar in water",
        "A frosted skincare jar resting on a smooth stone in shallow clear water, soft ripples "
        "spreading outward, sunlight caustics dancing on the stone, fresh spa aesthetic, "
        "top-down.",
        _NO_TEXT,
        "9:16",
    ),
    # --- Character -------------------------------------------------------------------------
    BuiltinTemplate(
        "old-fisherman",
        "Character",
        "Old fisherman portrait",
        "Portrait of a weathered old fisherman with a white beard mending a net on a wooden "
        "dock, he looks up and smiles at the camera, soft overcast light, sea in the "
        "background, documentary style, 85mm lens.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "dancer-studio",
        "Character",
        "Dancer in a studio",
        "A contemporary dancer in a flowing red dress spinning in an empty concrete studio, "
        "dust hanging in a single shaft of window light, fabric trailing behind her, slow "
        "motion.",
        _NO_TEXT,
        "9:16",
    ),
    BuiltinTemplate(
        "knight-rain",
        "Character",
        "Knight in the rain",
        "A battle-worn knight in dented plate armour standing in pouring rain on a muddy "
        "field, breath fogging, slowly lifting the visor, torches burning in the background, "
        "dark fantasy.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "child-kite",
        "Character",
        "Child flying a kite",
        "A child running across a windy green hilltop pulling a bright yellow kite into the "
        "sky, laughter, grass bending, puffy clouds, tracking shot at child height, joyful "
        "summer afternoon.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "robot-barista",
        "Character",
        "Robot barista",
        "A friendly retro robot barista with round glowing eyes carefully pouring latte art "
        "in a cosy café, steam rising, warm light, Pixar-like 3D animation style.",
        _NO_TEXT,
    ),
    # --- Food ------------------------------------------------------------------------------
    BuiltinTemplate(
        "ramen-steam",
        "Food",
        "Steaming ramen bowl",
        "Close-up of a steaming bowl of tonkotsu ramen, chopsticks lifting glossy noodles, a "
        "soft-boiled egg with a jammy yolk, steam curling in backlight on a dark wooden "
        "counter, slow motion.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "chocolate-pour",
        "Food",
        "Chocolate pour",
        "Molten dark chocolate pouring in a glossy ribbon over a stack of fresh strawberries, "
        "slow motion, rich brown tones, studio lighting, macro detail of the drips.",
        _NO_TEXT,
        "1:1",
    ),
    BuiltinTemplate(
        "pizza-oven",
        "Food",
        "Wood-fired pizza",
        "A Neapolitan pizza sliding out of a glowing wood-fired oven on a peel, the crust "
        "blistered and charred, mozzarella bubbling, flames flickering behind, warm rustic "
        "light.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "citrus-splash",
        "Food",
        "Citrus splash",
        "Halved oranges, lemons and limes dropping into sparkling water in slow motion, bubbles "
        "and splashes frozen in crisp light against a bright white background, refreshing "
        "summer ad.",
        _NO_TEXT,
        "9:16",
    ),
    BuiltinTemplate(
        "bread-bakery",
        "Food",
        "Artisan bread",
        "A baker's floured hands scoring a sourdough loaf, then a cut to the golden crust "
        "crackling as it cools on a rack, flour dust in window light, cosy bakery at dawn.",
        _NO_TEXT,
    ),
    # --- Sci-fi ----------------------------------------------------------------------------
    BuiltinTemplate(
        "orbital-station",
        "Sci-fi",
        "Orbital station",
        "A massive ring-shaped space station rotating slowly above Earth, sunlight glinting "
        "off solar panels, a small shuttle docking, the planet's night side glowing with city "
        "lights, slow majestic camera drift.",
        _NO_TEXT,
        "21:9",
    ),
    BuiltinTemplate(
        "cyberpunk-market",
        "Sci-fi",
        "Cyberpunk night market",
        "Crowded cyberpunk night market in a vertical megacity, holographic signs in "
        "Japanese and Hindi, drones carrying packages overhead, rain and neon haze, the "
        "camera rises from street level to the towers.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "mars-rover-dust",
        "Sci-fi",
        "Rover on Mars",
        "A six-wheeled rover crawling over rust-red Martian rocks at dusk, a blue Martian "
        "sunset on the horizon, fine dust trailing from the wheels, wide shot, realistic NASA "
        "documentary look.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "hologram-lab",
        "Sci-fi",
        "Hologram lab",
        "A scientist in a dark lab reaching into a floating blue holographic model of a "
        "human heart, rotating it with her hands, light reflecting on her face and glasses, "
        "close-up, sleek near-future design.",
        _NO_TEXT,
    ),
    BuiltinTemplate(
        "alien-forest",
        "Sci-fi",
        "Bioluminescent alien forest",
        "A bioluminescent alien forest at night, giant glowing mushrooms and floating "
        "jellyfish-like creatures drifting between the trees, soft cyan and violet light, "
        "slow forward glide, dreamlike.",
        _NO_TEXT,
    ),
)

_BY_SLUG = {t.slug: t for t in BUILTIN_TEMPLATES}


def get(slug: str) -> BuiltinTemplate | None:
    return _BY_SLUG.get(slug)


def search(*, category: str = "", query: str = "") -> list[BuiltinTemplate]:
    """Templates in `category` (all when blank) whose title or prompt contains every word
    of `query`, case-insensitively."""
    words = [w for w in query.lower().split() if w]
    found = []
    for template in BUILTIN_TEMPLATES:
        if category and template.category != category:
            continue
        haystack = f"{template.title} {template.prompt} {template.category}".lower()
        if all(word in haystack for word in words):
            found.append(template)
    return found
