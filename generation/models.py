"""GenerationJob (one paid generation from prompt to MediaItem), the per-user spend budget
row that reservations are taken under, and hashed API tokens."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from .providers.base import ErrorCode


def new_webhook_token() -> str:
    return secrets.token_urlsafe(24)


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    IN_QUEUE = "in_queue", "In provider queue"
    RUNNING = "running", "Generating"
    DOWNLOADING = "downloading", "Saving"
    SUCCEEDED = "succeeded", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


LIVE_STATUSES = (
    JobStatus.QUEUED,
    JobStatus.SUBMITTING,
    JobStatus.IN_QUEUE,
    JobStatus.RUNNING,
    JobStatus.DOWNLOADING,
)
TERMINAL_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class GenerationJob(models.Model):
    Status = JobStatus

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generation_jobs"
    )
    model_id = models.CharField(max_length=80)
    provider = models.CharField(max_length=20)
    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)

    estimated_cost = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))
    actual_cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    # What is held against the owner's monthly budget until the job is settled.
    reserved_cost = models.DecimalField(max_digits=10, decimal_places=4, default=Decimal("0"))

    provider_request_id = models.CharField(max_length=200, blank=True, db_index=True)
    # The provider's own handle (status/result/cancel URLs …), see providers.base.Submission.
    provider_handle = models.JSONField(default=dict, blank=True)
    # Secret in the webhook URL: a provider callback proves it knows this job.
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token)

    status = models.CharField(
        max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    queue_position = models.PositiveIntegerField(null=True, blank=True)
    progress = models.FloatField(default=0)
    # True when progress comes from the model's typical run time, not from the provider.
    progress_estimated = models.BooleanField(default=False)
    eta_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Consecutive failed status calls or downloads, for their backoff; reset on success.
    step_errors = models.PositiveSmallIntegerField(default=0)
    # When the pipeline should next act on this job (poll, retry, lease expiry). The
    # sweeper re-dispatches live jobs whose time has long passed.
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Each scheduled poll carries this number; a poll whose number is stale was superseded
    # (by the sweeper or a webhook) and does nothing, so chains never multiply.
    poll_seq = models.PositiveIntegerField(default=0)
    # Exclusive claim on long steps (submit, local render, download) until this time.
    lease_until = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)

    error_code = models.CharField(max_length=20, choices=ErrorCode.choices, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    provider_detail = models.TextField(blank=True)
    logs_tail = models.TextField(blank=True)

    media_item = models.OneToOneField(
        "media_library.MediaItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="generation_job",
    )
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    # Which variation of its request this job is (1 for a single job), so the clips of one
    # request get distinct names ("… #2").
    variation = models.PositiveSmallIntegerField(default=1)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitting_at = models.DateTimeField(null=True, blank=True)
    in_queue_at = models.DateTimeField(null=True, blank=True)
    running_at = models.DateTimeField(null=True, blank=True)
    downloading_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="genjob_owner_recent"),
            models.Index(fields=["status", "next_poll_at"], name="genjob_status_next"),
        ]
        constraints = [
            # One provider request belongs to one job: a reconcile that matched a request
            # another job already owns would bill one generation to two jobs.
            models.UniqueConstraint(
                fields=["provider", "provider_request_id"],
                condition=~models.Q(provider_request_id=""),
                name="genjob_request_once",
            )
        ]

    def __str__(self) -> str:
        return f"job {self.pk} {self.model_id} {self.status}"

    @property
    def dom_id(self) -> str:
        return f"job-{self.pk}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def can_retry(self) -> bool:
        return self.status in (JobStatus.FAILED, JobStatus.CANCELLED)

    @property
    def eta_seconds(self) -> int | None:
        if self.eta_at is None or not self.is_live:
            return None
        return max(0, int((self.eta_at - timezone.now()).total_seconds()))


class GenerationBudget(models.Model):
    """One row per user. Reservations are taken under this row's lock so concurrent creates
    cannot overspend together; it also serialises the concurrency and cooldown checks."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generation_budget"
    )
    # Blank: GENERATION_MONTHLY_BUDGET_USD applies.
    monthly_limit_usd = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    month = models.DateField(null=True, blank=True)
    reserved_usd = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    spent_usd = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    last_created_at = models.DateTimeField(null=True, blank=True)
    # Per-user overrides of the site limits (blank: the GENERATION_* setting applies).
    rate_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Generations per minute (0 = no limit)."
    )
    cooldown_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds between generations (0 = none)."
    )
    max_concurrent = models.PositiveIntegerField(
        null=True, blank=True, help_text="Generations in progress at once (0 = no limit)."
    )

    def __str__(self) -> str:
        return f"budget of user {self.user_id}"

    @property
    def rate(self) -> tuple[int, int]:
        """(count, period seconds)."""
        if self.rate_per_minute is not None:
            return self.rate_per_minute, 60
        from .limits import parse_rate

        return parse_rate(settings.GENERATION_RATE)

    @property
    def cooldown(self) -> int:
        return settings.GENERATION_COOLDOWN_S if self.cooldown_s is None else self.cooldown_s

    @property
    def concurrency(self) -> int:
        return (
            settings.GENERATION_MAX_CONCURRENT
            if self.max_concurrent is None
            else self.max_concurrent
        )

    @property
    def limit_usd(self) -> Decimal:
        if self.monthly_limit_usd is not None:
            return self.monthly_limit_usd
        return settings.GENERATION_MONTHLY_BUDGET_USD


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token itself is
    shown once when created."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"


class PromptTemplate(models.Model):
    """A creator's own saved prompt (the built-in ones live in generation.prompt_templates)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prompt_templates"
    )
    title = models.CharField(max_length=80)
    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class ProviderUpload(models.Model):
    """An input image already in a provider's storage (fal storage, Replicate Files), so a
    second generation from the same still does not upload it again while the provider
    keeps it. `variant` names the preparation (format and size limit) the model needed."""

    media_item = models.ForeignKey(
        "media_library.MediaItem", on_delete=models.CASCADE, related_name="provider_uploads"
    )
    provider = models.CharField(max_length=20)
    variant = models.CharField(max_length=80)
    url = models.TextField()
    size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["media_item", "provider", "variant"], name="provider_upload_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} copy of media {self.media_item_id} ({self.variant})"


class ProviderPrice(models.Model):
    """The price a provider's pricing API reports for one endpoint, as last read by the
    daily refresh. A change keeps the previous figure so the admin can show old → new."""

    provider = models.CharField(max_length=20)
    endpoint = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=12, decimal_places=6)
    unit = models.CharField(max_length=40)
    currency = models.CharField(max_length=8, default="USD")
    previous_unit_price = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True
    )
    checked_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "endpoint"], name="provider_price_once")
        ]
        ordering = ["provider", "endpoint"]

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.unit_price} {self.currency}/{self.unit}"
