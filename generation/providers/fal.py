"""fal.ai queue protocol.

    POST {FAL_QUEUE_URL}/{endpoint}[?fal_webhook=<url>]   -> request_id + status/response/cancel URLs
    GET  status_url?logs=1                                -> IN_QUEUE | IN_PROGRESS | COMPLETED
    GET  response_url                                     -> model output {"video": {...}}
    PUT  cancel_url                                       -> 202 CANCELLATION_REQUESTED

The returned URLs live under the owner/app prefix ("fal-ai/minimax/requests/<id>"), not
under the full endpoint, so they are stored on the job and used as given.
fal has no FAILED status: a failed run is COMPLETED with `error` and `error_type`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from generation import catalog

from .base import (
    CancelOutcome,
    ErrorCode,
    ImageUpload,
    Provider,
    ProviderError,
    ResultInfo,
    StagedImage,
    State,
    StatusReport,
    Submission,
    SubmitRequest,
    unproven_submit,
)
from .http import Caller, parse_time, rate_limited
from .inputs import build_input

# fal's error_type values (status body, error body or X-Fal-Error-Type header).
ERROR_TYPES: dict[str, str] = {
    "content_policy_violation": ErrorCode.CONTENT_POLICY,
    "request_timeout": ErrorCode.TIMEOUT,
    "startup_timeout": ErrorCode.TIMEOUT,
    "runner_connection_timeout": ErrorCode.TIMEOUT,
    "generation_timeout": ErrorCode.TIMEOUT,
    "client_cancelled": ErrorCode.CANCELLED,
    "bad_request": ErrorCode.INVALID_INPUT,
    "validation_error": ErrorCode.INVALID_INPUT,
    "runner_disconnected": ErrorCode.PROVIDER_ERROR,
    "runner_scheduling_failure": ErrorCode.PROVIDER_ERROR,
    "runner_connection_refused": ErrorCode.PROVIDER_ERROR,
    "runner_connection_error": ErrorCode.PROVIDER_ERROR,
    "runner_incomplete_response": ErrorCode.PROVIDER_ERROR,
    "runner_server_error": ErrorCode.PROVIDER_ERROR,
    "internal_error": ErrorCode.PROVIDER_ERROR,
}
MAX_LOG_LINES = 20
UPLOAD_KEEP_MARGIN_S = 86400
RECONCILE_PAGES = 3
RECONCILE_PAGE_SIZE = 50
RECONCILE_WINDOW = timedelta(hours=1)
# fal's clock and ours may disagree a little about when the request was sent.
CLOCK_SKEW = timedelta(seconds=30)


@dataclass(frozen=True)
class ProviderPrice:
    endpoint: str
    unit_price: Decimal
    unit: str
    currency: str


class FalProvider(Provider):
    name = "fal"

    @property
    def _caller(self) -> Caller:
        return Caller("fal", (settings.FAL_KEY,))

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {settings.FAL_KEY}", "Accept": "application/json"}

    def is_configured(self) -> tuple[bool, str]:
        return catalog.provider_configured("fal")

    # --- protocol -----------------------------------------------------------------------
    def submit(self, request: SubmitRequest) -> Submission:
        self._require_key()
        caller = self._caller
        url = f"{settings.FAL_QUEUE_URL.rstrip('/')}/{request.endpoint.strip('/')}"
        params = {"fal_webhook": request.webhook_url} if request.webhook_url else None
        response = caller.call(
            "POST",
            url,
            op="submit",
            job_id=request.job_id,
            headers=self._headers(),
            json=build_input(request),
            params=params,
            submit=True,
        )
        self._raise_for_status(response, submit=True)
        body = caller.json(response, submit=True)
        try:
            request_id = str(body["request_id"])
            handle = {
                "endpoint": request.endpoint,
                "status_url": str(body["status_url"]),
                "response_url": str(body["response_url"]),
                "cancel_url": str(body["cancel_url"]),
                "job_id": request.job_id,
            }
        except (KeyError, TypeError):
            raise ProviderError(
                ErrorCode.PROVIDER_ERROR,
                "fal submit answer lacks request_id or its URLs",
                request_sent=True,
            ) from None
        return Submission(request_id=request_id, handle=handle)

    def upload_image(self, image: ImageUpload, *, job_id: int | None = None) -> StagedImage:
        """fal storage, as fal's clients upload: initiate (authenticated) for a signed
        upload URL and the file's public URL, then PUT the bytes to the signed URL."""
        self._require_key()
        caller = self._caller
        keep_s = settings.FAL_UPLOAD_REUSE_S
        response = caller.call(
            "POST",
            f"{settings.FAL_REST_URL.rstrip('/')}/storage/upload/initiate",
            op="upload",
            job_id=job_id,
            headers={
                **self._headers(),
                # Keep the file a little longer than we reuse it, so a cached URL never
                # points at a file fal has already dropped.
                "X-Fal-Object-Lifecycle": json.dumps(
                    {"expiration_duration_seconds": keep_s + UPLOAD_KEEP_MARGIN_S}
                ),
            },
            # The storage type fal's current JS client sends (docs/providers/fal.md §1).
            params={"storage_type": "fal-cdn-v3"},
            json={"content_type": image.content_type, "file_name": image.file_name},
        )
        self._raise_for_status(response)
        body = caller.json(response)
        try:
            upload_url, file_url = str(body["upload_url"]), str(body["file_url"])
        except (KeyError, TypeError):
            raise ProviderError(
                ErrorCode.PROVIDER_ERROR, "fal storage answer lacks upload_url or file_url"
            ) from None
        # The signed URL is the credential here: no Authorization header goes with it.
        put = caller.call(
            "PUT",
            upload_url,
            op="upload_put",
            job_id=job_id,
            headers={"Content-Type": image.content_type},
            content=image.data,
        )
        if put.status_code >= 300:
            raise fal_http_error(put, caller)
        return StagedImage(url=file_url, expires_at=timezone.now() + timedelta(seconds=keep_s))

    def status(self, submission: Submission) -> StatusReport:
        caller = self._caller
        response = caller.call(
            "GET",
            submission.handle["status_url"],
            op="status",
            job_id=submission.handle.get("job_id"),
            headers=self._headers(),
            params={"logs": "1"},
        )
        self._raise_for_status(response, known_request=True)
        body = caller.json(response)
        if not isinstance(body, dict):
            raise ProviderError(ErrorCode.PROVIDER_ERROR, "fal status answer is not an object")
        status = str(body.get("status", "")).upper()
        logs = _log_lines(body.get("logs"))
        if status == "IN_QUEUE":
            position = body.get("queue_position")
            return StatusReport(
                State.IN_QUEUE,
                queue_position=position if isinstance(position, int) else None,
                logs=logs,
            )
        if status == "IN_PROGRESS":
            return StatusReport(State.RUNNING, logs=logs)
        if status == "COMPLETED":
            if body.get("error") or body.get("error_type"):
                error = _completed_error(body, caller)
                if error.code != ErrorCode.CANCELLED:
                    # The model's own reason (content policy, a refused input…) is in the
                    # result's `detail` list, not in the status line.
                    detailed = self._result_error(submission)
                    if detailed is not None and detailed.code != ErrorCode.PROVIDER_ERROR:
                        error = detailed
                state = State.CANCELLED if error.code == ErrorCode.CANCELLED else State.FAILED
                return StatusReport(state, logs=logs, error=error)
            return StatusReport(State.COMPLETED, progress=100.0, logs=logs)
        if status in ("CANCELED", "CANCELLED"):
            return StatusReport(State.CANCELLED, logs=logs)
        raise ProviderError(
            ErrorCode.PROVIDER_ERROR, caller.redact(f"fal reported an unknown status {status!r}")
        )

    def result(self, submission: Submission) -> ResultInfo:
        caller = self._caller
        response = caller.call(
            "GET",
            submission.handle["response_url"],
            op="result",
            job_id=submission.handle.get("job_id"),
            headers=self._headers(),
        )
        self._raise_for_status(response, known_request=True)
        body = caller.json(response)
        video = body.get("video") if isinstance(body, dict) else None
        if not isinstance(video, dict) or not video.get("url"):
            raise ProviderError(
                ErrorCode.PROVIDER_ERROR, "fal output has no video URL", permanent=True
            )
        size = video.get("file_size")
        return ResultInfo(
            url=str(video["url"]),
            content_type=str(video.get("content_type") or "video/mp4"),
            file_name=str(video.get("file_name") or ""),
            file_size=size if isinstance(size, int) else None,
        )

    def _result_error(self, submission: Submission) -> ProviderError | None:
        """The classified error the result URL answers for a request that failed."""
        try:
            response = self._caller.call(
                "GET",
                submission.handle["response_url"],
                op="result",
                job_id=submission.handle.get("job_id"),
                headers=self._headers(),
            )
        except ProviderError:
            return None
        if response.status_code < 300:
            return None
        error = fal_http_error(response, self._caller)
        # A failed generation is not retried by resubmitting (that would pay again).
        error.permanent = True
        return error

    def cancel(self, submission: Submission) -> CancelOutcome:
        caller = self._caller
        response = caller.call(
            "PUT",
            submission.handle["cancel_url"],
            op="cancel",
            job_id=submission.handle.get("job_id"),
            headers=self._headers(),
        )
        if (
            response.status_code == 400
            and _safe_json(response).get("status") == "ALREADY_COMPLETED"
        ):
            # Too late: fal ran it to the end and bills it like any finished request.
            return CancelOutcome.TOO_LATE
        self._raise_for_status(response, known_request=True)
        return CancelOutcome.REQUESTED

    def reconcile(self, request: SubmitRequest) -> Submission:
        """Find the request an unconfirmed submit created, in fal's request listing for the
        endpoint: the one sent after the job was created whose input equals what this job
        sends. Nothing matching proves nothing (the listing may lag, the call may never
        have arrived), so that is a plain failure — never a resend."""
        self._require_key()
        wanted = build_input(request)
        caller = self._caller
        not_before = request.not_before or (timezone.now() - RECONCILE_WINDOW)
        params: dict[str, Any] = {
            "endpoint_id": request.endpoint,
            "expand": "payloads",
            "limit": RECONCILE_PAGE_SIZE,
            "start": not_before.isoformat(),
        }
        for _ in range(RECONCILE_PAGES):
            response = caller.call(
                "GET",
                f"{settings.FAL_API_URL.rstrip('/')}/v1/models/requests/by-endpoint",
                op="reconcile",
                job_id=request.job_id,
                headers=self._headers(),
                params=params,
            )
            self._raise_for_status(response)
            page = caller.json(response)
            items = page.get("items") if isinstance(page, dict) else None
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict) or not item.get("request_id"):
                    continue
                sent = parse_time(item.get("sent_at"))
                if sent is not None and sent < not_before - CLOCK_SKEW:
                    continue
                if item.get("json_input") == wanted:
                    return self._handle_for(str(item["request_id"]), request)
            cursor = page.get("next_cursor") if isinstance(page, dict) else None
            if not cursor or not page.get("has_more", True):
                break
            params["cursor"] = cursor
        raise unproven_submit(
            "fal's request listing shows no request with this job's input since it was "
            "created; the submit may still have been accepted, so it is not resent"
        )

    def prices(self, endpoints: list[str]) -> list[ProviderPrice]:
        """fal's current unit price for each endpoint (GET /v1/models/pricing)."""
        self._require_key()
        caller = self._caller
        response = caller.call(
            "GET",
            f"{settings.FAL_API_URL.rstrip('/')}/v1/models/pricing",
            op="pricing",
            headers=self._headers(),
            params=[("endpoint_id", e) for e in endpoints],
        )
        self._raise_for_status(response)
        body = caller.json(response)
        found = []
        for item in body.get("prices", []) if isinstance(body, dict) else []:
            try:
                found.append(
                    ProviderPrice(
                        endpoint=str(item["endpoint_id"]),
                        unit_price=Decimal(str(item["unit_price"])),
                        unit=str(item.get("unit") or ""),
                        currency=str(item.get("currency") or "USD"),
                    )
                )
            except (KeyError, TypeError, ArithmeticError):
                continue
        return found

    def _handle_for(self, request_id: str, request: SubmitRequest) -> Submission:
        # Status, result and cancel live under the owner/app prefix, as submit returns them.
        app = "/".join(request.endpoint.strip("/").split("/")[:2])
        base = f"{settings.FAL_QUEUE_URL.rstrip('/')}/{app}/requests/{request_id}"
        return Submission(
            request_id=request_id,
            handle={
                "endpoint": request.endpoint,
                "status_url": f"{base}/status",
                "response_url": base,
                "cancel_url": f"{base}/cancel",
                "job_id": request.job_id,
                "reconciled": True,
            },
        )

    # --- errors -------------------------------------------------------------------------
    def _require_key(self) -> None:
        if not settings.FAL_KEY:
            raise ProviderError(ErrorCode.AUTH, "FAL_KEY is not set", permanent=True)

    def _raise_for_status(
        self, response: httpx.Response, *, submit: bool = False, known_request: bool = False
    ) -> None:
        if response.status_code < 300:
            return
        raise fal_http_error(response, self._caller, submit=submit, known_request=known_request)


def fal_http_error(
    response: httpx.Response, caller: Caller, *, submit: bool = False, known_request: bool = False
) -> ProviderError:
    code = response.status_code
    body = _safe_json(response)
    detail = body.get("detail", "") if isinstance(body, dict) else ""
    text = caller.redact(f"fal HTTP {code}: {_text(detail) or response.text[:500]}")
    error_type = str(body.get("error_type") or response.headers.get("x-fal-error-type") or "")
    if code == 401:
        return ProviderError(ErrorCode.AUTH, text)
    if code == 403:
        lowered = text.lower()
        if "locked" in lowered or "balance" in lowered:
            return ProviderError(ErrorCode.QUOTA, text)
        return ProviderError(ErrorCode.AUTH, text)
    if code == 429:
        return rate_limited(response, text)
    if code == 422 or code == 400:
        field_errors, content_policy = _field_errors(detail)
        if content_policy or error_type == "content_policy_violation":
            return ProviderError(ErrorCode.CONTENT_POLICY, text)
        return ProviderError(ErrorCode.INVALID_INPUT, text, field_errors=field_errors)
    if code == 404 and known_request:
        return ProviderError(ErrorCode.PROVIDER_ERROR, text, permanent=True)
    if code >= 500 or error_type:
        mapped = ERROR_TYPES.get(error_type)
        if mapped is None:
            mapped = ErrorCode.TIMEOUT if code in (504, 408) else ErrorCode.PROVIDER_ERROR
        # A 5xx on submit may still have been queued (gateway died after accepting).
        return ProviderError(mapped, text, request_sent=submit and code in (502, 504))
    return ProviderError(ErrorCode.PROVIDER_ERROR, text)


def _completed_error(body: dict[str, Any], caller: Caller) -> ProviderError:
    error_type = str(body.get("error_type") or "")
    code = ERROR_TYPES.get(error_type, ErrorCode.PROVIDER_ERROR)
    detail = caller.redact(
        f"fal completed with error ({error_type or 'unknown'}): {_text(body.get('error'))}"
    )
    return ProviderError(code, detail)


def _field_errors(detail: Any) -> tuple[dict[str, str], bool]:
    fields: dict[str, str] = {}
    content_policy = False
    items = detail if isinstance(detail, list) else []
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "content_policy_violation":
            content_policy = True
        loc = item.get("loc") or []
        name = str(loc[-1]) if isinstance(loc, list) and loc else "input"
        fields[name] = _text(item.get("msg"))[:200]
    if isinstance(detail, str) and "content policy" in detail.lower():
        content_policy = True
    return fields, content_policy


def _log_lines(logs: Any) -> tuple[str, ...]:
    if not isinstance(logs, list):
        return ()
    lines = [str(e.get("message", "")) for e in logs if isinstance(e, dict)]
    return tuple(line[:500] for line in lines[-MAX_LOG_LINES:])


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return str(value)[:1000]


def _safe_json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
