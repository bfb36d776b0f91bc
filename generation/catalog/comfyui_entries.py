"""Models that run on the operator's own ComfyUI servers (COMFYUI_URLS). Data only.

`endpoint` names a workflow under generation/providers/comfyui_workflows/ (or the
operator's COMFYUI_WORKFLOWS_DIR, which may replace it). They are free by default: the
GPUs are yours; COMFYUI_GPU_SECOND_USD turns the history's execution time into an
accounting figure recorded as the job's actual cost. Offered only when COMFYUI_URLS is
set (see catalog.offered_models).

Frame rates and sizes follow the models' own documentation: Wan 2.2 TI2V-5B renders
24 fps at 1280×704 (720p) on a 32-pixel grid with 4k+1 frames; LTX-Video 24 fps, sides
divisible by 32, 8k+1 frames.
"""

from dataclasses import replace

from generation.pricing import Free

from .spec import IMAGE_TO_VIDEO, TEXT_TO_VIDEO, ImageLimits, ModelSpec

CHECKED = "2026-12-01"
# The still travels inline (a data URL) until submit uploads it to the chosen server.
COMFYUI_IMAGE_LIMITS = ImageLimits(
    formats=("png", "jpeg", "webp"), max_side=2048, max_bytes=4 * 1024 * 1024
)
SHAPES = ("16:9", "9:16", "1:1")

WAN22_COMFYUI = ModelSpec(
    id="comfyui-wan22",
    name="Wan 2.2 (your GPUs)",
    provider="comfyui",
    endpoint="wan22_t2v",
    kind=TEXT_TO_VIDEO,
    durations=(5, 2, 3),
    resolutions=("480p", "720p"),
    aspect_ratios=SHAPES,
    price=Free(),
    price_date=CHECKED,
    price_source="runs on your own ComfyUI servers",
    price_note="free; optional accounting per GPU second (COMFYUI_GPU_SECOND_USD)",
    negative_prompt=True,
    seed=True,
    fps=24,
    typical_run_s=300,
    time_limit_s=3600,
    duration_field=None,
    resolution_field=None,
    aspect_field=None,
    family="Wan 2.2 (your GPUs)",
    description="Wan 2.2 TI2V-5B through ComfyUI on your own GPUs: private and free per clip.",
)
WAN22_COMFYUI_I2V = replace(
    WAN22_COMFYUI,
    id="comfyui-wan22-i2v",
    name="Wan 2.2 (your GPUs, image to video)",
    endpoint="wan22_i2v",
    kind=IMAGE_TO_VIDEO,
    # The node scales and centre-crops the still to the chosen shape.
    image_field="start_image",
    image_limits=COMFYUI_IMAGE_LIMITS,
    description="Animates your image with Wan 2.2 on your own GPUs.",
)
LTXV_COMFYUI = replace(
    WAN22_COMFYUI,
    id="comfyui-ltxv",
    name="LTX-Video (your GPUs)",
    endpoint="ltxv_t2v",
    durations=(4, 2, 6),
    resolutions=("512p", "480p"),
    typical_run_s=90,
    family="LTX-Video (your GPUs)",
    description="LTX-Video 2B through ComfyUI on your own GPUs: fast drafts, free per clip.",
)

COMFYUI_MODELS: tuple[ModelSpec, ...] = (WAN22_COMFYUI, WAN22_COMFYUI_I2V, LTXV_COMFYUI)
