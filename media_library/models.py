"""MediaItem: every clip, image and sound a user owns — uploaded, generated or exported."""

import uuid

from django.conf import settings
from django.db import models


def media_upload_to(instance: "MediaItem", filename: str) -> str:
    # Stored under a generated name: the user's file name is kept only as the title.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"u{instance.owner_id}/{uuid.uuid4().hex}.{ext[:8]}"


def derived_upload_to(instance: "MediaItem", filename: str) -> str:
    return f"u{instance.owner_id}/derived/{uuid.uuid4().hex}-{filename[-40:]}"


class MediaItem(models.Model):
    class Kind(models.TextChoices):
        VIDEO = "video", "Video"
        IMAGE = "image", "Image"
        AUDIO = "audio", "Audio"

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        GENERATED = "generated", "Generated"
        EXPORT = "export", "Export"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="media_items"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=media_upload_to, max_length=300)
    size_bytes = models.BigIntegerField(default=0)
    mime_type = models.CharField(max_length=100, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    video_codec = models.CharField(max_length=40, blank=True)
    audio_codec = models.CharField(max_length=40, blank=True)
    has_audio = models.BooleanField(default=False)
    poster = models.ImageField(upload_to=derived_upload_to, blank=True, max_length=300)
    filmstrip = models.ImageField(upload_to=derived_upload_to, blank=True, max_length=300)
    filmstrip_frames = models.PositiveSmallIntegerField(default=0)
    waveform = models.ImageField(upload_to=derived_upload_to, blank=True, max_length=300)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    error_message = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UPLOAD)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="media_owner_recent"),
            models.Index(fields=["owner", "kind", "-created_at"], name="media_owner_kind"),
            models.Index(fields=["owner", "source", "-created_at"], name="media_owner_source"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.kind})"

    @property
    def dom_id(self) -> str:
        return f"media-{self.pk}"


class UploadSession(models.Model):
    """A resumable, chunked upload in progress (see media_library/uploads.py and
    docs/uploads.md). The bytes received so far live in a file under UPLOAD_PARTIAL_DIR
    named after `id`; `offset` is how many of them are durably stored."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETING = "completing", "Completing"
        DONE = "done", "Done"
        ABORTED = "aborted", "Aborted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upload_sessions"
    )
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    error_message = models.CharField(max_length=300, blank=True)
    media_item = models.ForeignKey(
        MediaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["owner", "status"], name="upload_owner_status"),
            models.Index(fields=["status", "updated_at"], name="upload_status_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.offset}/{self.size}, {self.status})"
