"""Input images for image-to-video: prepared for the model, put where the provider can
fetch them, and remembered while the provider keeps them.

A provider's runner downloads start and end frames itself, with no session and no cookie,
so a URL on this server (local disk or a private S3 bucket) is useless to it. Each image is
therefore uploaded to the provider's own storage (fal storage, Replicate Files) before the
submit, exactly as the providers' own clients do, and the URL that upload returns is sent.

Preparation respects the model's ImageLimits: a still in a format the model does not take
is converted, one larger than it accepts is downscaled (Pillow). The uploaded copy is
cached per (media item, provider, preparation) in ProviderUpload until shortly before the
provider forgets it, then uploaded again.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from pathlib import PurePosixPath

from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from .. import catalog
from ..catalog import ImageLimits, ModelSpec
from ..models import GenerationJob, ProviderUpload
from ..providers.base import ErrorCode, ImageUpload, Provider, ProviderError

logger = logging.getLogger("generation.jobs")

# The params that name a job's input images, by role.
IMAGE_PARAMS = {"start": "image_id", "end": "end_image_id"}
# A cached upload is reused only if the provider keeps it at least this much longer: the
# job may wait in the provider's queue before its runner fetches the image.
REUSE_MARGIN = timedelta(hours=1)
_CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_QUALITY_STEPS = (92, 85, 75, 65)


def job_image_items(job: GenerationJob) -> dict[str, object]:
    """The job's input media items by role (missing ones left out)."""
    from media_library.models import MediaItem

    found = {}
    for role, param in IMAGE_PARAMS.items():
        image_id = job.params.get(param)
        if not image_id:
            continue
        item = MediaItem.objects.filter(pk=image_id, owner_id=job.owner_id).first()
        if item is None:
            raise ProviderError(
                ErrorCode.INVALID_INPUT,
                f"the {role} image (media {image_id}) no longer exists",
                permanent=True,
            )
        found[role] = item
    return found


def stage_job_images(job: GenerationJob, provider: Provider) -> dict[str, str]:
    """Role -> URL the provider can fetch, uploading what is not already there."""
    spec = catalog.get(job.model_id)
    return {
        role: staged_url(item, spec=spec, provider=provider, job_id=job.pk)
        for role, item in job_image_items(job).items()
    }


def staged_url(item, *, spec: ModelSpec, provider: Provider, job_id: int | None = None) -> str:
    variant = variant_name(spec.image_limits)
    now = timezone.now()
    cached = ProviderUpload.objects.filter(
        media_item=item, provider=provider.name, variant=variant
    ).first()
    if cached is not None and (cached.expires_at is None or cached.expires_at > now + REUSE_MARGIN):
        return cached.url
    upload = prepare_image(item, spec.image_limits)
    staged = provider.upload_image(upload, job_id=job_id)
    fields = {
        "url": staged.url,
        "size_bytes": len(upload.data),
        "created_at": now,
        "expires_at": staged.expires_at,
    }
    try:
        with transaction.atomic():
            ProviderUpload.objects.update_or_create(
                media_item=item, provider=provider.name, variant=variant, defaults=fields
            )
    except IntegrityError:
        # Another worker staged the same still at the same moment: either copy serves.
        ProviderUpload.objects.filter(
            media_item=item, provider=provider.name, variant=variant
        ).update(**fields)
    logger.info(
        "staged image",
        extra={"job_id": job_id, "media_id": item.pk, "provider": provider.name},
    )
    return staged.url


def variant_name(limits: ImageLimits) -> str:
    return f"{limits.max_side}px-{limits.max_bytes // 1024}k-{'+'.join(limits.formats)}"


def prepare_image(item, limits: ImageLimits) -> ImageUpload:
    """The item's bytes as they are when the model accepts them, else a converted or
    downscaled copy that it does."""
    try:
        with item.file.open("rb") as fh:
            data = fh.read()
        with Image.open(io.BytesIO(data)) as probe:
            fmt = (probe.format or "").lower()
            width, height = probe.size
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise ProviderError(
            ErrorCode.INVALID_INPUT,
            f"media {item.pk} could not be read as an image ({type(exc).__name__})",
            permanent=True,
        ) from None
    name = PurePosixPath(item.file.name).stem or f"image-{item.pk}"
    if fmt in limits.formats and max(width, height) <= limits.max_side:
        if len(data) <= limits.max_bytes:
            return ImageUpload(data, _CONTENT_TYPES.get(fmt, f"image/{fmt}"), f"{name}.{fmt}")
    return _reencode(data, limits, name)


def _reencode(data: bytes, limits: ImageLimits, name: str) -> ImageUpload:
    with Image.open(io.BytesIO(data)) as source:
        image = ImageOps.exif_transpose(source)
        image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
        keep_alpha = image.mode in ("RGBA", "LA", "PA") and "png" in limits.formats
        if keep_alpha:
            fmt, image = "png", image.convert("RGBA")
        else:
            fmt = "jpeg" if "jpeg" in limits.formats else limits.formats[0]
            image = image.convert("RGB")
        scale = 1.0
        for _ in range(6):
            candidate = image
            if scale < 1.0:
                size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
                candidate = image.resize(size, Image.Resampling.LANCZOS)
            for quality in _QUALITY_STEPS if fmt in ("jpeg", "webp") else (None,):
                out = io.BytesIO()
                options = {"quality": quality} if quality else {"optimize": True}
                candidate.save(out, format=fmt.upper(), **options)
                if out.tell() <= limits.max_bytes:
                    return ImageUpload(out.getvalue(), _CONTENT_TYPES[fmt], f"{name}.{fmt}")
            scale *= 0.75
    raise ProviderError(
        ErrorCode.INVALID_INPUT,
        f"the image cannot be made smaller than {limits.max_bytes} bytes",
        permanent=True,
    )
