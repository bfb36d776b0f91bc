"""The models Cutroom offers. Data only: change a figure here (or override it with
GENERATION_PRICE_OVERRIDES) and every estimate, badge and README line follows.

Every hosted entry is checked against the provider's published input schema, recorded
with its sources under tests/emulators/schemas/ (the strict emulators refuse anything
else, and tests/unit/test_catalog_schemas.py builds every option of every entry against
it). price_note says how sure the figure is: VERIFIED figures were read on the endpoint's
own fal page (its llms.txt) on CHECKED; SIBLING ones on a sibling endpoint's page of the
same family (same tier, same rates), since this endpoint's own page was not available.

Variants of one family (image-to-video, end frame, fast tier) are derived from the
family's text-to-video entry with `variant()` so a family shares one set of figures.
"""

from dataclasses import replace

from generation.pricing import (
    BasePlusExtraSeconds,
    D,
    Free,
    PerFrames,
    PerSecond,
    PerToken,
    PerVideo,
)

from .spec import (
    AUDIO_OPTIONAL,
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    TEXT_TO_VIDEO,
    ModelSpec,
)

CHECKED = "2026-12-01"
VERIFIED = "read on the endpoint's fal page (llms.txt) on 2026-12-01"
SIBLING = (
    "this endpoint's page was not available; figure read on the same family's "
    "sibling endpoint page on 2026-12-01 (same tier, same rates)"
)
LANDSCAPE_PORTRAIT_SQUARE = ("16:9", "9:16", "1:1")


def fal(endpoint: str) -> str:
    return f"https://fal.ai/models/{endpoint}"


def variant(base: ModelSpec, **changes) -> ModelSpec:
    """A sibling endpoint of the same family: same figures unless changed."""
    if "endpoint" in changes and "price_source" not in changes:
        changes["price_source"] = fal(changes["endpoint"])
    return replace(base, **changes)


def image_to_video(base: ModelSpec, **changes) -> ModelSpec:
    """The family's image-to-video endpoint: the picture sets the shape, so no aspect."""
    defaults = {
        "kind": IMAGE_TO_VIDEO,
        "aspect_ratios": (),
        "aspect_field": None,
        "image_field": "image_url",
    }
    return variant(base, **{**defaults, **changes})


LOCAL = ModelSpec(
    id="local",
    name="Local renderer (offline)",
    provider="local",
    endpoint="generation.tasks.render_local",
    kind=TEXT_TO_VIDEO,
    durations=(4, 2, 6, 8, 10),
    resolutions=("480p", "360p", "720p", "1080p"),
    aspect_ratios=("16:9", "9:16", "1:1", "4:3"),
    price=Free(),
    price_date=CHECKED,
    price_source="runs on this server",
    price_note="free",
    audio=AUDIO_OPTIONAL,
    audio_default=True,
    seed=True,
    fps=24,
    typical_run_s=10,
    time_limit_s=600,
    family="Local",
    description="A procedural clip drawn on this server from the prompt's words. "
    "Free, private, works with no key and no network.",
)

# --- MiniMax Hailuo ------------------------------------------------------------------------
HAILUO_02 = ModelSpec(
    id="hailuo",
    name="MiniMax Hailuo-02 Standard",
    provider="fal",
    endpoint="fal-ai/minimax/hailuo-02/standard/text-to-video",
    kind=TEXT_TO_VIDEO,
    durations=(6, 10),
    resolutions=("768P",),
    aspect_ratios=("16:9",),
    price=PerSecond(usd_per_s=D("0.045")),
    price_date=CHECKED,
    price_source=fal("fal-ai/minimax/hailuo-02/standard/image-to-video"),
    price_note=SIBLING,
    max_prompt_chars=2000,
    fps=25,
    typical_run_s=240,
    time_limit_s=1800,
    resolution_field=None,
    aspect_field=None,
    fixed_input={"prompt_optimizer": True},
    family="Hailuo-02",
    description="Fast, physically plausible 768P clips; good value.",
)
HAILUO_02_I2V = image_to_video(
    HAILUO_02,
    id="hailuo-i2v",
    name="MiniMax Hailuo-02 Standard (image to video)",
    endpoint="fal-ai/minimax/hailuo-02/standard/image-to-video",
    resolutions=("768P", "512P"),
    price=PerSecond(usd_per_s=D("0.045"), by_resolution={"768P": D("0.045"), "512P": D("0.017")}),
    price_note=VERIFIED,
    resolution_field="resolution",
    end_image_field="end_image_url",
    description="Animates your image at 768P (or 512P for drafts); optional last frame.",
)
HAILUO_02_PRO = variant(
    HAILUO_02,
    id="hailuo-pro",
    name="MiniMax Hailuo-02 Pro (1080P)",
    endpoint="fal-ai/minimax/hailuo-02/pro/text-to-video",
    durations=(6,),
    resolutions=("1080P",),
    price=PerSecond(usd_per_s=D("0.08")),
    price_note=VERIFIED,
    typical_run_s=420,
    time_limit_s=2400,
    duration_field=None,
    description="Hailuo-02 at 1080P, 6 s.",
)
HAILUO_02_PRO_I2V = image_to_video(
    HAILUO_02_PRO,
    id="hailuo-pro-i2v",
    name="MiniMax Hailuo-02 Pro (image to video)",
    endpoint="fal-ai/minimax/hailuo-02/pro/image-to-video",
    price_source=fal("fal-ai/minimax/hailuo-02/pro/text-to-video"),
    price_note=SIBLING,
    end_image_field="end_image_url",
    description="Animates your image at 1080P, 6 s; optional last frame.",
)
HAILUO_23 = variant(
    HAILUO_02,
    id="hailuo-2.3",
    name="MiniMax Hailuo 2.3 Standard",
    endpoint="fal-ai/minimax/hailuo-2.3/standard/text-to-video",
    price=PerVideo(usd=D("0.28"), duration_multiplier={10: D(2)}),
    price_note=VERIFIED,
    family="Hailuo 2.3",
    description="MiniMax's current model: sharper motion and faces; $0.28 per 6 s clip.",
)
HAILUO_23_I2V = image_to_video(
    HAILUO_23,
    id="hailuo-2.3-i2v",
    name="MiniMax Hailuo 2.3 Standard (image to video)",
    endpoint="fal-ai/minimax/hailuo-2.3/standard/image-to-video",
    description="Animates your image with Hailuo 2.3.",
)
HAILUO_23_PRO = variant(
    HAILUO_23,
    id="hailuo-2.3-pro",
    name="MiniMax Hailuo 2.3 Pro (1080P)",
    endpoint="fal-ai/minimax/hailuo-2.3/pro/text-to-video",
    durations=(6,),
    resolutions=("1080P",),
    price=PerVideo(usd=D("0.49")),
    typical_run_s=420,
    time_limit_s=2400,
    duration_field=None,
    description="Hailuo 2.3 at 1080P; a flat $0.49 per clip.",
)
HAILUO_23_PRO_I2V = image_to_video(
    HAILUO_23_PRO,
    id="hailuo-2.3-pro-i2v",
    name="MiniMax Hailuo 2.3 Pro (image to video)",
    endpoint="fal-ai/minimax/hailuo-2.3/pro/image-to-video",
    description="Animates your image with Hailuo 2.3 at 1080P.",
)

# --- Kling ----------------------------------------------------------------------------------
KLING_21_MASTER = ModelSpec(
    id="kling-2.1-master",
    name="Kling 2.1 Master",
    provider="fal",
    endpoint="fal-ai/kling-video/v2.1/master/text-to-video",
    kind=TEXT_TO_VIDEO,
    durations=(5, 10),
    resolutions=("1080p",),
    aspect_ratios=LANDSCAPE_PORTRAIT_SQUARE,
    price=BasePlusExtraSeconds(base_usd=D("1.40"), base_seconds=5, extra_usd_per_s=D("0.28")),
    price_date=CHECKED,
    price_source=fal("fal-ai/kling-video/v2.1/master/text-to-video"),
    price_note=VERIFIED,
    negative_prompt=True,
    max_prompt_chars=2500,
    fps=24,
    typical_run_s=360,
    time_limit_s=2400,
    resolution_field=None,
    family="Kling 2.1",
    description="Kling's top tier: cinematic motion and prompt fidelity.",
)
KLING_21_MASTER_I2V = image_to_video(
    KLING_21_MASTER,
    id="kling-2.1-master-i2v",
    name="Kling 2.1 Master (image to video)",
    endpoint="fal-ai/kling-video/v2.1/master/image-to-video",
    description="Animates your image with Kling's top tier.",
)
KLING_21_STANDARD_I2V = image_to_video(
    KLING_21_MASTER,
    id="kling-2.1-standard-i2v",
    name="Kling 2.1 Standard (image to video)",
    endpoint="fal-ai/kling-video/v2.1/standard/image-to-video",
    resolutions=("720p",),
    price=BasePlusExtraSeconds(base_usd=D("0.28"), base_seconds=5, extra_usd_per_s=D("0.056")),
    typical_run_s=240,
    time_limit_s=1800,
    description="Animates one of your images at 720p.",
)
KLING_21_PRO_I2V = image_to_video(
    KLING_21_MASTER,
    id="kling-2.1-pro-i2v",
    name="Kling 2.1 Pro (image to video)",
    endpoint="fal-ai/kling-video/v2.1/pro/image-to-video",
    price=BasePlusExtraSeconds(base_usd=D("0.49"), base_seconds=5, extra_usd_per_s=D("0.098")),
    typical_run_s=300,
    end_image_field="tail_image_url",
    description="Animates one of your images at 1080p; optional last frame.",
)
KLING_25_TURBO = variant(
    KLING_21_MASTER,
    id="kling-2.5-turbo-pro",
    name="Kling 2.5 Turbo Pro",
    endpoint="fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
    price=BasePlusExtraSeconds(base_usd=D("0.35"), base_seconds=5, extra_usd_per_s=D("0.07")),
    price_source=fal("fal-ai/kling-video/v2.5-turbo/pro/image-to-video"),
    price_note=SIBLING,
    typical_run_s=180,
    family="Kling 2.5",
    description="Kling's fast tier: strong motion at a fraction of Master's price.",
)
KLING_25_TURBO_I2V = image_to_video(
    KLING_25_TURBO,
    id="kling-2.5-turbo-pro-i2v",
    name="Kling 2.5 Turbo Pro (image to video)",
    endpoint="fal-ai/kling-video/v2.5-turbo/pro/image-to-video",
    price_note=VERIFIED,
    end_image_field="tail_image_url",
    description="Animates your image with Kling 2.5 Turbo; optional last frame.",
)
KLING_26_PRO = variant(
    KLING_21_MASTER,
    id="kling-2.6-pro",
    name="Kling 2.6 Pro (with sound)",
    endpoint="fal-ai/kling-video/v2.6/pro/text-to-video",
    price=PerSecond(usd_per_s=D("0.07"), audio_usd_per_s=D("0.14")),
    price_source=fal("fal-ai/kling-video/v2.6/pro/image-to-video"),
    price_note=SIBLING,
    audio=AUDIO_OPTIONAL,
    audio_default=True,
    audio_field="generate_audio",
    typical_run_s=240,
    family="Kling 2.6",
    description="Kling with native sound (dialogue, ambience); $0.07/s silent.",
)
KLING_26_PRO_I2V = image_to_video(
    KLING_26_PRO,
    id="kling-2.6-pro-i2v",
    name="Kling 2.6 Pro (image to video, with sound)",
    endpoint="fal-ai/kling-video/v2.6/pro/image-to-video",
    price_note=VERIFIED,
    image_field="start_image_url",
    end_image_field="end_image_url",
    description="Animates your image with Kling 2.6, with sound; optional last frame.",
)

# --- Google Veo --------------------------------------------------------------------------
VEO3 = ModelSpec(
    id="veo3",
    name="Google Veo 3",
    provider="fal",
    endpoint="fal-ai/veo3",
    kind=TEXT_TO_VIDEO,
    durations=(4, 6, 8),
    resolutions=("720p", "1080p"),
    aspect_ratios=("16:9", "9:16"),
    price=PerSecond(usd_per_s=D("0.20"), audio_usd_per_s=D("0.40")),
    price_date=CHECKED,
    price_source=fal("fal-ai/veo3"),
    price_note=VERIFIED,
    audio=AUDIO_OPTIONAL,
    audio_default=True,
    negative_prompt=True,
    seed=True,
    max_prompt_chars=20000,
    typical_run_s=120,
    time_limit_s=1800,
    duration_format="{s}s",
    audio_field="generate_audio",
    family="Veo 3",
    description="Google's Veo 3, with native sound (dialogue, effects).",
)
VEO3_FAST = variant(
    VEO3,
    id="veo3-fast",
    name="Google Veo 3 Fast",
    endpoint="fal-ai/veo3/fast",
    price=PerSecond(usd_per_s=D("0.10"), audio_usd_per_s=D("0.15")),
    typical_run_s=75,
    time_limit_s=1200,
    description="Veo 3 quality at a lower price, with optional sound.",
)
VEO3_I2V = image_to_video(
    VEO3,
    id="veo3-i2v",
    name="Google Veo 3 (image to video)",
    endpoint="fal-ai/veo3/image-to-video",
    description="Animates your image with Veo 3, with optional sound.",
)
VEO3_FAST_I2V = image_to_video(
    VEO3_FAST,
    id="veo3-fast-i2v",
    name="Google Veo 3 Fast (image to video)",
    endpoint="fal-ai/veo3/fast/image-to-video",
    price_source=fal("fal-ai/veo3/fast"),
    price_note=SIBLING,
    negative_prompt=False,  # not in this endpoint's published schema
    seed=False,
    description="Animates your image with Veo 3 Fast.",
)
VEO31 = variant(
    VEO3,
    id="veo3.1",
    name="Google Veo 3.1",
    endpoint="fal-ai/veo3.1",
    resolutions=("720p", "1080p", "4k"),
    price=PerSecond(
        usd_per_s=D("0.20"),
        by_resolution={"4k": D("0.40")},
        audio_usd_per_s=D("0.40"),
        audio_by_resolution={"4k": D("0.60")},
    ),
    family="Veo 3.1",
    description="Google's current flagship: richer sound, better prompt adherence, up to 4K.",
)
VEO31_FAST = variant(
    VEO31,
    id="veo3.1-fast",
    name="Google Veo 3.1 Fast",
    endpoint="fal-ai/veo3.1/fast",
    price=PerSecond(
        usd_per_s=D("0.10"),
        by_resolution={"4k": D("0.30")},
        audio_usd_per_s=D("0.15"),
        audio_by_resolution={"4k": D("0.35")},
    ),
    price_source=fal("fal-ai/veo3.1/fast/image-to-video"),
    price_note=SIBLING,
    typical_run_s=75,
    time_limit_s=1200,
    description="Veo 3.1 at a lower price, up to 4K.",
)
VEO31_I2V = image_to_video(
    VEO31,
    id="veo3.1-i2v",
    name="Google Veo 3.1 (image to video)",
    endpoint="fal-ai/veo3.1/image-to-video",
    description="Animates your image with Veo 3.1, with optional sound.",
)
VEO31_FAST_I2V = image_to_video(
    VEO31_FAST,
    id="veo3.1-fast-i2v",
    name="Google Veo 3.1 Fast (image to video)",
    endpoint="fal-ai/veo3.1/fast/image-to-video",
    price_note=VERIFIED,
    description="Animates your image with Veo 3.1 Fast.",
)
VEO31_FLF = image_to_video(
    VEO31,
    id="veo3.1-flf",
    name="Google Veo 3.1 (first and last frame)",
    endpoint="fal-ai/veo3.1/first-last-frame-to-video",
    kind=FIRST_LAST_FRAME,
    image_field="first_frame_url",
    end_image_field="last_frame_url",
    price_source=fal("fal-ai/veo3.1/image-to-video"),
    price_note=SIBLING,
    description="Generates the shot between two of your stills: a bridge or a transition.",
)
VEO31_FAST_FLF = image_to_video(
    VEO31_FAST,
    id="veo3.1-fast-flf",
    name="Google Veo 3.1 Fast (first and last frame)",
    endpoint="fal-ai/veo3.1/fast/first-last-frame-to-video",
    kind=FIRST_LAST_FRAME,
    image_field="first_frame_url",
    end_image_field="last_frame_url",
    price_note=VERIFIED,
    description="The shot between two of your stills, at Veo 3.1 Fast prices.",
)

# --- OpenAI Sora 2 -----------------------------------------------------------------------
SORA2 = ModelSpec(
    id="sora-2",
    name="OpenAI Sora 2",
    provider="fal",
    endpoint="fal-ai/sora-2/text-to-video",
    kind=TEXT_TO_VIDEO,
    durations=(4, 8, 12),
    resolutions=("720p",),
    aspect_ratios=("16:9", "9:16"),
    price=PerSecond(usd_per_s=D("0.10")),
    price_date=CHECKED,
    price_source=fal("fal-ai/sora-2/text-to-video"),
    price_note=VERIFIED,
    max_prompt_chars=5000,
    typical_run_s=180,
    time_limit_s=2400,
    duration_format="int",
    family="Sora 2",
    description="OpenAI's Sora 2: coherent scenes and physics, 720p.",
)
SORA2_I2V = image_to_video(
    SORA2,
    id="sora-2-i2v",
    name="OpenAI Sora 2 (image to video)",
    endpoint="fal-ai/sora-2/image-to-video",
    resolution_field=None,  # "auto" (the image's own) is the default; 720p is what it makes
    description="Animates your image with Sora 2.",
)
SORA2_PRO = variant(
    SORA2,
    id="sora-2-pro",
    name="OpenAI Sora 2 Pro",
    endpoint="fal-ai/sora-2/text-to-video/pro",
    resolutions=("720p", "1080p"),
    price=PerSecond(usd_per_s=D("0.30"), by_resolution={"1080p": D("0.50")}),
    price_note=(
        "fal's Sora 2 docs page on 2026-12-01 (its stored copy lost the $ signs: "
        "0.30/second for 720p, 0.50 for 1080p)"
    ),
    typical_run_s=300,
    description="Sora 2 Pro: higher fidelity, up to 1080p.",
)
SORA2_PRO_I2V = image_to_video(
    SORA2_PRO,
    id="sora-2-pro-i2v",
    name="OpenAI Sora 2 Pro (image to video)",
    endpoint="fal-ai/sora-2/image-to-video/pro",
    description="Animates your image with Sora 2 Pro, up to 1080p.",
)

# --- Wan -----------------------------------------------------------------------------------
WAN_22 = ModelSpec(
    id="wan-2.2",
    name="Wan 2.2 A14B",
    provider="fal",
    endpoint="fal-ai/wan/v2.2-a14b/text-to-video",
    kind=TEXT_TO_VIDEO,
    durations=(5,),
    resolutions=("720p", "480p", "580p"),
    aspect_ratios=LANDSCAPE_PORTRAIT_SQUARE,
    # Billed per "video second" = num_frames / 16: the 81-frame clip is 5.0625 s.
    price=PerFrames(
        usd_per_s=D("0.08"),
        frames_per_duration={5: 81},
        billing_fps=16,
        by_resolution={"480p": D("0.04"), "580p": D("0.06"), "720p": D("0.08")},
    ),
    price_date=CHECKED,
    price_source=fal("fal-ai/wan/v2.2-a14b/image-to-video"),
    price_note=SIBLING,
    negative_prompt=True,
    seed=True,
    fps=16,
    typical_run_s=120,
    time_limit_s=1800,
    duration_field=None,
    # 81 frames at 16 fps is Wan's native ~5 s clip.
    fixed_input={"num_frames": 81, "frames_per_second": 16},
    family="Wan 2.2",
    description="Open-weights Wan 2.2, priced by resolution.",
)
WAN_22_I2V = image_to_video(
    WAN_22,
    id="wan-2.2-i2v",
    name="Wan 2.2 A14B (image to video)",
    endpoint="fal-ai/wan/v2.2-a14b/image-to-video",
    price_note=VERIFIED,
    end_image_field="end_image_url",
    description="Animates your image with Wan 2.2; optional last frame.",
)
WAN_25 = ModelSpec(
    id="wan-2.5",
    name="Wan 2.5",
    provider="fal",
    endpoint="fal-ai/wan-25-preview/text-to-video",
    kind=TEXT_TO_VIDEO,
    durations=(5, 10),
    resolutions=("720p", "480p", "1080p"),
    aspect_ratios=LANDSCAPE_PORTRAIT_SQUARE,
    price=PerSecond(usd_per_s=D("0.10"), by_resolution={"480p": D("0.05"), "1080p": D("0.15")}),
    price_date=CHECKED,
    price_source=fal("fal-ai/wan-25-preview/image-to-video"),
    price_note=SIBLING,
    negative_prompt=True,
    seed=True,
    fps=24,
    typical_run_s=150,
    time_limit_s=1800,
    family="Wan 2.5",
    description="Wan 2.5: up to 1080p and 10 s, priced by resolution.",
)
WAN_25_I2V = image_to_video(
    WAN_25,
    id="wan-2.5-i2v",
    name="Wan 2.5 (image to video)",
    endpoint="fal-ai/wan-25-preview/image-to-video",
    price_note=VERIFIED,
    description="Animates your image with Wan 2.5.",
)

# --- LTX -----------------------------------------------------------------------------------
LTX_13B = ModelSpec(
    id="ltx-13b-distilled",
    name="LTX-Video 13B Distilled",
    provider="fal",
    endpoint="fal-ai/ltx-video-13b-distilled",
    kind=TEXT_TO_VIDEO,
    durations=(4,),
    resolutions=("720p", "480p"),
    aspect_ratios=LANDSCAPE_PORTRAIT_SQUARE,
    price=PerVideo(usd=D("0.04")),
    price_date=CHECKED,
    price_source=fal("fal-ai/ltx-video-13b-distilled/multiconditioning"),
    price_note=SIBLING,
    negative_prompt=True,
    seed=True,
    fps=30,
    typical_run_s=30,
    time_limit_s=600,
    duration_field=None,
    # LTX wants 8k+1 frames: 121 frames at 30 fps is its ~4 s default clip.
    fixed_input={"num_frames": 121, "frame_rate": 30},
    family="LTX-Video",
    description="Very fast drafts at a flat price.",
)
LTX_13B_I2V = image_to_video(
    LTX_13B,
    id="ltx-13b-distilled-i2v",
    name="LTX-Video 13B Distilled (image to video)",
    endpoint="fal-ai/ltx-video-13b-distilled/image-to-video",
    price_source=fal("fal-ai/ltx-video-13b-distilled/multiconditioning"),
    description="Quick drafts from your image at a flat price.",
)
LTX2 = ModelSpec(
    id="ltx-2",
    name="LTX-2 (with sound)",
    provider="fal",
    endpoint="fal-ai/ltx-2/text-to-video",
    kind=TEXT_TO_VIDEO,
    durations=(6, 8, 10),
    resolutions=("1080p", "1440p", "2160p"),
    aspect_ratios=("16:9",),
    price=PerSecond(usd_per_s=D("0.06"), by_resolution={"1440p": D("0.12"), "2160p": D("0.24")}),
    price_date=CHECKED,
    price_source=fal("fal-ai/ltx-2/image-to-video"),
    price_note=SIBLING,
    audio=AUDIO_OPTIONAL,
    audio_default=True,
    audio_field="generate_audio",
    max_prompt_chars=5000,
    fps=25,
    typical_run_s=90,
    time_limit_s=1800,
    duration_format="int",
    family="LTX-2",
    description="Lightricks' LTX-2: sound included, up to 4K (2160p), priced by resolution.",
)
LTX2_FAST = variant(
    LTX2,
    id="ltx-2-fast",
    name="LTX-2 Fast (with sound)",
    endpoint="fal-ai/ltx-2/text-to-video/fast",
    price=PerSecond(usd_per_s=D("0.04"), by_resolution={"1440p": D("0.08"), "2160p": D("0.16")}),
    price_note=VERIFIED,
    typical_run_s=45,
    description="LTX-2 at draft speed and price, sound included.",
)
LTX2_I2V = image_to_video(
    LTX2,
    id="ltx-2-i2v",
    name="LTX-2 (image to video, with sound)",
    endpoint="fal-ai/ltx-2/image-to-video",
    # This endpoint accepts only 16:9 too: the still is framed to it.
    aspect_ratios=("16:9",),
    aspect_field="aspect_ratio",
    price_note=VERIFIED,
    description="Animates your image with LTX-2, sound included.",
)
LTX2_FAST_I2V = image_to_video(
    LTX2_FAST,
    id="ltx-2-fast-i2v",
    name="LTX-2 Fast (image to video, with sound)",
    endpoint="fal-ai/ltx-2/image-to-video/fast",
    aspect_ratios=("16:9",),
    aspect_field="aspect_ratio",
    price_source="https://fal.ai/learn/devs/ltx-video-2-pro-image-to-video-developer-guide",
    price_note="fal's developer guide price table, read on 2026-12-01",
    description="Quick LTX-2 drafts from your image, sound included.",
)

# --- ByteDance Seedance ----------------------------------------------------------------------
SEEDANCE_ASPECTS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
SEEDANCE_1_PRO = ModelSpec(
    id="seedance-1-pro",
    name="Seedance 1.0 Pro",
    provider="fal",
    endpoint="fal-ai/bytedance/seedance/v1/pro/text-to-video",
    kind=TEXT_TO_VIDEO,
    durations=(5, 3, 4, 6, 8, 10, 12),
    resolutions=("1080p", "480p", "720p"),
    aspect_ratios=SEEDANCE_ASPECTS,
    price=PerToken(usd_per_million=D("2.5"), fps=24),
    price_date=CHECKED,
    price_source=fal("fal-ai/bytedance/seedance/v1/pro/image-to-video"),
    price_note=SIBLING,
    seed=True,
    typical_run_s=90,
    time_limit_s=1800,
    family="Seedance 1.0",
    description="ByteDance's multi-shot model, priced per video token.",
)
SEEDANCE_1_PRO_I2V = image_to_video(
    SEEDANCE_1_PRO,
    id="seedance-1-pro-i2v",
    name="Seedance 1.0 Pro (image to video)",
    endpoint="fal-ai/bytedance/seedance/v1/pro/image-to-video",
    price_note=VERIFIED,
    end_image_field="end_image_url",
    description="Animates your image with Seedance Pro; optional last frame.",
)
SEEDANCE_1_LITE = variant(
    SEEDANCE_1_PRO,
    id="seedance-1-lite",
    name="Seedance 1.0 Lite",
    endpoint="fal-ai/bytedance/seedance/v1/lite/text-to-video",
    resolutions=("720p", "480p", "1080p"),
    price=PerToken(usd_per_million=D("1.8"), fps=24),
    price_source="https://www.eachlabs.ai/bytedance/seedance-v1/seedance-v1-lite-text-to-video/llms.txt",
    price_note=(
        "fal's own Lite page was not available; figure from a reseller page that repeats "
        "fal's sentence, read on 2026-12-01"
    ),
    typical_run_s=60,
    time_limit_s=1200,
    description="Cheaper Seedance, priced per video token.",
)
SEEDANCE_1_LITE_I2V = image_to_video(
    SEEDANCE_1_LITE,
    id="seedance-1-lite-i2v",
    name="Seedance 1.0 Lite (image to video)",
    endpoint="fal-ai/bytedance/seedance/v1/lite/image-to-video",
    price_source=SEEDANCE_1_LITE.price_source,
    end_image_field="end_image_url",
    description="Animates your image with Seedance Lite; optional last frame.",
)
SEEDANCE_15_PRO = variant(
    SEEDANCE_1_PRO,
    id="seedance-1.5-pro",
    name="Seedance 1.5 Pro (with sound)",
    endpoint="fal-ai/bytedance/seedance/v1.5/pro/text-to-video",
    durations=(5, 4, 6, 8, 10, 12),
    resolutions=("720p", "480p", "1080p"),
    price=PerToken(usd_per_million=D("1.2"), audio_usd_per_million=D("2.4"), fps=24),
    price_note=VERIFIED,
    audio=AUDIO_OPTIONAL,
    audio_default=True,
    audio_field="generate_audio",
    family="Seedance 1.5",
    description="Seedance 1.5 with native sound; per-token price doubles with sound.",
)
SEEDANCE_15_PRO_I2V = image_to_video(
    SEEDANCE_15_PRO,
    id="seedance-1.5-pro-i2v",
    name="Seedance 1.5 Pro (image to video, with sound)",
    endpoint="fal-ai/bytedance/seedance/v1.5/pro/image-to-video",
    end_image_field="end_image_url",
    description="Animates your image with Seedance 1.5, with sound; optional last frame.",
)

# --- Pika, Luma ------------------------------------------------------------------------------
PIKA_22 = ModelSpec(
    id="pika-2.2",
    name="Pika 2.2",
    provider="fal",
    endpoint="fal-ai/pika/v2.2/text-to-video",
    kind=TEXT_TO_VIDEO,
    durations=(5,),  # 10 s is accepted but its price is not published
    resolutions=("720p", "1080p"),
    aspect_ratios=("16:9", "9:16", "1:1", "4:5", "5:4", "3:2", "2:3"),
    price=PerVideo(usd=D("0.20"), by_resolution={"1080p": D("0.45")}),
    price_date=CHECKED,
    price_source=fal("fal-ai/pika/v2.2/text-to-video"),
    price_note=VERIFIED,
    negative_prompt=True,
    seed=True,
    typical_run_s=90,
    time_limit_s=1200,
    duration_format="int",
    family="Pika 2.2",
    description="Stylised, playful motion; flat price per clip.",
)
PIKA_22_I2V = image_to_video(
    PIKA_22,
    id="pika-2.2-i2v",
    name="Pika 2.2 (image to video)",
    endpoint="fal-ai/pika/v2.2/image-to-video",
    description="Animates your image with Pika; flat price per clip.",
)
LUMA_RAY2_FLASH = ModelSpec(
    id="luma-ray-2-flash",
    name="Luma Ray 2 Flash",
    provider="fal",
    endpoint="fal-ai/luma-dream-machine/ray-2-flash",
    kind=TEXT_TO_VIDEO,
    durations=(5, 9),
    resolutions=("540p", "720p", "1080p"),
    aspect_ratios=("16:9", "9:16", "4:3", "3:4", "21:9", "9:21"),
    price=PerVideo(
        usd=D("0.20"),
        by_resolution={"540p": D("0.20"), "720p": D("0.40"), "1080p": D("0.80")},
        duration_multiplier={9: D(2)},
    ),
    price_date=CHECKED,
    price_source=fal("fal-ai/luma-dream-machine/ray-2-flash"),
    price_note=VERIFIED,
    max_prompt_chars=5000,
    min_prompt_chars=3,  # Luma refuses shorter prompts
    typical_run_s=60,
    time_limit_s=1200,
    duration_format="{s}s",
    family="Luma Ray 2",
    description="Luma's quick Ray 2; price doubles at 720p, 4× at 1080p, 2× for 9 s.",
)
LUMA_RAY2_FLASH_I2V = image_to_video(
    LUMA_RAY2_FLASH,
    id="luma-ray-2-flash-i2v",
    name="Luma Ray 2 Flash (image to video)",
    endpoint="fal-ai/luma-dream-machine/ray-2-flash/image-to-video",
    # Unlike most image-to-video endpoints, Luma still takes an aspect ratio.
    aspect_ratios=LUMA_RAY2_FLASH.aspect_ratios,
    aspect_field="aspect_ratio",
    end_image_field="end_image_url",
    description="Animates your image with Ray 2 Flash; optional last frame.",
)

# --- Replicate ------------------------------------------------------------------------------
REPLICATE_VIDEO_01 = ModelSpec(
    id="replicate-minimax-video-01",
    name="MiniMax Video-01 (Replicate)",
    provider="replicate",
    endpoint="minimax/video-01",
    kind=TEXT_TO_VIDEO,
    durations=(6,),
    resolutions=("720p",),
    aspect_ratios=("16:9",),
    price=PerVideo(usd=D("0.50")),
    price_date=CHECKED,
    price_source="https://replicate.com/minimax/video-01",
    price_note="Replicate's published per-video figure as last known; not re-verified here",
    max_prompt_chars=2000,
    fps=25,
    typical_run_s=300,
    time_limit_s=1800,
    duration_field=None,
    resolution_field=None,
    aspect_field=None,
    fixed_input={"prompt_optimizer": True},
    family="MiniMax (Replicate)",
    description="Hailuo's predecessor through Replicate's predictions API.",
)

REPLICATE_VIDEO_01_I2V = replace(
    REPLICATE_VIDEO_01,
    id="replicate-minimax-video-01-i2v",
    name="MiniMax Video-01 (Replicate, image to video)",
    kind=IMAGE_TO_VIDEO,
    aspect_ratios=(),
    image_field="first_frame_image",
    description="Animates your image through Replicate; the clip takes the image's shape.",
)

MODELS: tuple[ModelSpec, ...] = (
    LOCAL,
    HAILUO_02,
    HAILUO_02_I2V,
    HAILUO_02_PRO,
    HAILUO_02_PRO_I2V,
    HAILUO_23,
    HAILUO_23_I2V,
    HAILUO_23_PRO,
    HAILUO_23_PRO_I2V,
    KLING_21_MASTER,
    KLING_21_MASTER_I2V,
    KLING_21_STANDARD_I2V,
    KLING_21_PRO_I2V,
    KLING_25_TURBO,
    KLING_25_TURBO_I2V,
    KLING_26_PRO,
    KLING_26_PRO_I2V,
    VEO3,
    VEO3_FAST,
    VEO3_I2V,
    VEO3_FAST_I2V,
    VEO31,
    VEO31_FAST,
    VEO31_I2V,
    VEO31_FAST_I2V,
    VEO31_FLF,
    VEO31_FAST_FLF,
    SORA2,
    SORA2_I2V,
    SORA2_PRO,
    SORA2_PRO_I2V,
    WAN_22,
    WAN_22_I2V,
    WAN_25,
    WAN_25_I2V,
    LTX_13B,
    LTX_13B_I2V,
    LTX2,
    LTX2_FAST,
    LTX2_I2V,
    LTX2_FAST_I2V,
    SEEDANCE_1_PRO,
    SEEDANCE_1_PRO_I2V,
    SEEDANCE_1_LITE,
    SEEDANCE_1_LITE_I2V,
    SEEDANCE_15_PRO,
    SEEDANCE_15_PRO_I2V,
    PIKA_22,
    PIKA_22_I2V,
    LUMA_RAY2_FLASH,
    LUMA_RAY2_FLASH_I2V,
    REPLICATE_VIDEO_01,
    REPLICATE_VIDEO_01_I2V,
)
