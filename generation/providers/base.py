"""The one interface every generation provider implements, and the one error taxonomy.

The pipeline (generation/services.py, generation/tasks.py) only talks to this module's
types; fal, Replicate and the local renderer each translate their own protocol into them.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models


class ErrorCode(models.TextChoices):
    AUTH = "auth", "Authentication"
    QUOTA = "quota", "Quota or balance"
    RATE_LIMITED = "rate_limited", "Rate limited"
    INVALID_INPUT = "invalid_input", "Invalid input"
    CONTENT_POLICY = "content_policy", "Content policy"
    TIMEOUT = "timeout", "Timeout"
    NETWORK = "network", "Network"
    PROVIDER_ERROR = "provider_error", "Provider error"
    CANCELLED = "cancelled", "Cancelled"


# What the creator reads, and what they can do about it.
USER_MESSAGES: dict[str, str] = {
    ErrorCode.AUTH: "The provider rejected the API key. Check the key in the server settings.",
    ErrorCode.QUOTA: "The provider account is out of credit or locked. Add credit at the provider, then retry.",
    ErrorCode.RATE_LIMITED: "The provider is limiting requests right now. We will keep trying; you can also retry later.",
    ErrorCode.INVALID_INPUT: "The provider refused these settings. Adjust the prompt or settings and try again.",
    ErrorCode.CONTENT_POLICY: "The provider's content policy blocked this prompt. Rephrase the prompt and try again.",
    ErrorCode.TIMEOUT: "The provider took too long to answer. Try again later.",
    ErrorCode.NETWORK: "The provider could not be reached. Check the connection and try again later.",
    ErrorCode.PROVIDER_ERROR: "The provider failed to generate this video. Try again later.",
    ErrorCode.CANCELLED: "The generation was cancelled.",
}

# Retried with capped exponential backoff and jitter; the rest fail the job at once.
RETRYABLE: frozenset[str] = frozenset(
    {ErrorCode.RATE_LIMITED, ErrorCode.TIMEOUT, ErrorCode.NETWORK, ErrorCode.PROVIDER_ERROR}
)

DETAIL_LIMIT = 2000
_SECRET_PATTERNS = [
    re.compile(r"(?i)(authorization\s*[:=]\s*)(key|bearer|token)?\s*[^\s,'\"}]+"),
    re.compile(r"(?i)\b(key|token|secret|api[_-]?key)(\s*[=:]\s*)[^\s,'\"}&]+"),
    re.compile(r"r8_[A-Za-z0-9]{10,}"),
]


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove configured keys and anything shaped like a credential, then truncate."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + "[redacted]", text)
    return text[:DETAIL_LIMIT]


class ProviderError(Exception):
    """A classified provider failure. `detail` is for admins (redacted, truncated)."""

    def __init__(
        self,
        code: str,
        detail: str = "",
        *,
        retry_after: float | None = None,
        field_errors: dict[str, str] | None = None,
        request_sent: bool = False,
        permanent: bool = False,
        reason: str = "",
        message: str = "",
    ):
        super().__init__(f"{code}: {detail[:200]}")
        self.code = ErrorCode(code)
        self.detail = detail[:DETAIL_LIMIT]
        self.retry_after = retry_after
        self.field_errors = field_errors or {}
        # True when the request may have reached the provider (a timeout after sending):
        # a submit that fails this way is reconciled, never blindly resent.
        self.request_sent = request_sent
        # A failure that retrying cannot fix even though its code is usually retryable
        # (an expired result URL, a result over GENERATION_MAX_RESULT_MB, an unknown id).
        self.permanent = permanent
        # Finer than `code`, for the sentence the user reads: RESULT_EXPIRED, RESULT_TOO_LARGE.
        self.reason = reason
        # A sentence for the user that replaces the taxonomy's, when the provider's own
        # words are the useful part (a ComfyUI node's exception, on the operator's GPUs).
        self.message = message

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE and not self.permanent

    @property
    def user_message(self) -> str:
        if self.message:
            return self.message
        message = USER_MESSAGES[self.code]
        if self.field_errors and self.code == ErrorCode.INVALID_INPUT:
            fields = "; ".join(f"{k}: {v}" for k, v in self.field_errors.items())
            message = f"{message} ({fields})"
        return message


# ProviderError.reason values (result downloads).
RESULT_EXPIRED = "result_expired"
RESULT_TOO_LARGE = "result_too_large"


def unproven_submit(detail: str) -> ProviderError:
    """The failure of a reconcile that found no matching request."""
    return ProviderError(ErrorCode.PROVIDER_ERROR, detail, request_sent=True, permanent=True)


@dataclass(frozen=True)
class SubmitRequest:
    """Everything a provider needs to start one generation."""

    job_id: int
    model_id: str
    endpoint: str
    prompt: str
    params: dict[str, Any]
    negative_prompt: str = ""
    # Image inputs by role ("start", "end"), already staged where the provider can fetch
    # them (its own storage, see services/image_inputs.py) — never a URL of ours.
    images: dict[str, str] = field(default_factory=dict)
    webhook_url: str = ""
    # The job's creation time: a reconcile only considers requests sent after it.
    not_before: datetime | None = None


@dataclass(frozen=True)
class Submission:
    """The provider's handle on a submitted request; stored on the job as JSON."""

    request_id: str
    handle: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageUpload:
    """An image prepared for one model (format and size within what it accepts)."""

    data: bytes
    content_type: str
    file_name: str


@dataclass(frozen=True)
class StagedImage:
    """Where the provider's runner can fetch an uploaded image, and until when."""

    url: str
    expires_at: datetime | None = None


class CancelOutcome(models.TextChoices):
    """What a provider said to a cancel."""

    CANCELLED = "cancelled"  # stopped; nothing is billed
    REQUESTED = "requested"  # accepted; a running request may still be billed
    TOO_LATE = "too_late"  # it had already finished: billed as a normal generation


class State(models.TextChoices):
    IN_QUEUE = "in_queue"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class StatusReport:
    state: State
    queue_position: int | None = None
    # 0-100 when the provider reports it; None means "estimate from typical run time".
    progress: float | None = None
    logs: tuple[str, ...] = ()
    error: ProviderError | None = None
    # Set by providers whose status answer already carries the output (Replicate).
    result: ResultInfo | None = None


@dataclass(frozen=True)
class ResultInfo:
    url: str
    content_type: str = ""
    file_name: str = ""
    file_size: int | None = None
    # Billing figure the provider reported, when it reports one.
    actual_cost: str | None = None


class Provider(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    def submit(self, request: SubmitRequest) -> Submission: ...

    @abc.abstractmethod
    def status(self, submission: Submission) -> StatusReport: ...

    @abc.abstractmethod
    def result(self, submission: Submission) -> ResultInfo: ...

    @abc.abstractmethod
    def cancel(self, submission: Submission) -> CancelOutcome: ...

    def reconcile(self, request: SubmitRequest) -> Submission:
        """After an ambiguous submit, find the request the provider accepted, through the
        provider's own request listing. Raises ProviderError (request_sent, permanent)
        when nothing proves a match: resending could pay twice."""
        raise unproven_submit(f"{self.name} cannot list its requests")

    def upload_image(self, image: ImageUpload, *, job_id: int | None = None) -> StagedImage:
        """Put an input image where this provider's runner can fetch it."""
        raise ProviderError(
            ErrorCode.INVALID_INPUT, f"{self.name} takes no image inputs", permanent=True
        )

    def is_configured(self) -> tuple[bool, str]:
        """(available, reason shown when not)."""
        return True, ""
