"""Replicate predictions API.

    POST {REPLICATE_API_URL}/models/{owner}/{name}/predictions   (official models)
    POST {REPLICATE_API_URL}/predictions  with "version"         (endpoint "owner/name:version")
    GET  urls.get  -> starting | processing | succeeded | failed | canceled | aborted
    POST urls.cancel
    GET  {REPLICATE_API_URL}/predictions                          (newest first; for reconcile)

Errors are RFC 7807 problem documents ({"title", "detail", "status"}).
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.conf import settings

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

WEBHOOK_EVENTS = ["start", "completed"]
# Replicate: "use data URLs for files up to 256 KB", the Files API above that.
DATA_URL_MAX_BYTES = 256 * 1024
RECONCILE_PAGES = 3
# Without a per-job webhook URL, only predictions this recent with identical input match.
RECONCILE_WINDOW = timedelta(hours=1)
CLOCK_SKEW = timedelta(seconds=30)
_PERCENT = re.compile(r"(\d{1,3})%")
_THROTTLE = re.compile(r"available in (\d+(?:\.\d+)?) second", re.IGNORECASE)
_CONTENT = ("e005", "flagged as sensitive", "nsfw", "content policy", "safety filter")
MAX_LOG_LINES = 20


class ReplicateProvider(Provider):
    name = "replicate"

    @property
    def _caller(self) -> Caller:
        return Caller("replicate", (settings.REPLICATE_API_TOKEN,))

    @property
    def _base(self) -> str:
        return settings.REPLICATE_API_URL.rstrip("/")

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {settings.REPLICATE_API_TOKEN}",
            "Accept": "application/json",
        }

    def is_configured(self) -> tuple[bool, str]:
        return catalog.provider_configured("replicate")

    def submit(self, request: SubmitRequest) -> Submission:
        if not settings.REPLICATE_API_TOKEN:
            raise ProviderError(ErrorCode.AUTH, "REPLICATE_API_TOKEN is not set", permanent=True)
        payload: dict[str, Any] = {"input": build_input(request)}
        if request.webhook_url:
            payload["webhook"] = request.webhook_url
            payload["webhook_events_filter"] = WEBHOOK_EVENTS
        endpoint = request.endpoint.strip("/")
        if ":" in endpoint:
            payload["version"] = endpoint.split(":", 1)[1]
            url = f"{self._base}/predictions"
        else:
            url = f"{self._base}/models/{endpoint}/predictions"
        caller = self._caller
        response = caller.call(
            "POST",
            url,
            op="submit",
            job_id=request.job_id,
            headers=self._headers(),
            json=payload,
            submit=True,
        )
        self._raise_for_status(response, submit=True)
        prediction = caller.json(response, submit=True)
        return self._submission(prediction, request.job_id, submit=True)

    def upload_image(self, image: ImageUpload, *, job_id: int | None = None) -> StagedImage:
        """Small stills go inline as a data URL, as Replicate recommends for files up to
        256 KB; larger ones through the Files API, whose urls.get Replicate's runners can
        read (it needs our token, which the runner has and nobody else does)."""
        if len(image.data) <= DATA_URL_MAX_BYTES:
            encoded = base64.b64encode(image.data).decode()
            return StagedImage(url=f"data:{image.content_type};base64,{encoded}")
        if not settings.REPLICATE_API_TOKEN:
            raise ProviderError(ErrorCode.AUTH, "REPLICATE_API_TOKEN is not set", permanent=True)
        caller = self._caller
        response = caller.call(
            "POST",
            f"{self._base}/files",
            op="upload",
            job_id=job_id,
            headers=self._headers(),
            files={"content": (image.file_name, image.data, image.content_type)},
        )
        self._raise_for_status(response)
        body = caller.json(response)
        urls = body.get("urls") if isinstance(body, dict) else None
        if not isinstance(urls, dict) or not urls.get("get"):
            raise ProviderError(ErrorCode.PROVIDER_ERROR, "Replicate file answer lacks urls.get")
        return StagedImage(url=str(urls["get"]), expires_at=parse_time(body.get("expires_at")))

    def status(self, submission: Submission) -> StatusReport:
        prediction = self._get(submission, op="status")
        return self._report(prediction)

    def result(self, submission: Submission) -> ResultInfo:
        prediction = self._get(submission, op="result")
        if prediction.get("status") != "succeeded":
            raise ProviderError(
                ErrorCode.PROVIDER_ERROR,
                f"prediction is {prediction.get('status')!r}, not succeeded",
            )
        return _result_info(prediction)

    def cancel(self, submission: Submission) -> CancelOutcome:
        caller = self._caller
        url = submission.handle.get("cancel_url") or (
            f"{self._base}/predictions/{submission.request_id}/cancel"
        )
        response = caller.call(
            "POST",
            url,
            op="cancel",
            job_id=submission.handle.get("job_id"),
            headers=self._headers(),
        )
        self._raise_for_status(response, known_request=True)
        # The answer is the prediction: already succeeded means Replicate billed the run.
        status = _safe_status(response)
        if status == "succeeded":
            return CancelOutcome.TOO_LATE
        if status == "canceled":
            return CancelOutcome.CANCELLED
        return CancelOutcome.REQUESTED

    def reconcile(self, request: SubmitRequest) -> Submission:
        """Find the prediction an unconfirmed submit created: the newest one of the same
        model, created after the job, whose input equals what this job sends. List
        entries may omit `webhook` (it is not in the documented list shape), so it is
        never what a match rests on. No match proves nothing: a plain failure, no resend."""
        wanted_input = build_input(request)
        endpoint = request.endpoint.strip("/")
        model = endpoint.split(":", 1)[0]
        version = endpoint.split(":", 1)[1] if ":" in endpoint else None
        cutoff = (request.not_before or datetime.now(UTC) - RECONCILE_WINDOW) - CLOCK_SKEW
        caller = self._caller
        url: str | None = f"{self._base}/predictions"
        for _ in range(RECONCILE_PAGES):
            if not url:
                break
            response = caller.call(
                "GET", url, op="reconcile", job_id=request.job_id, headers=self._headers()
            )
            self._raise_for_status(response)
            page = caller.json(response)
            results = page.get("results", []) if isinstance(page, dict) else []
            for item in results:
                if not isinstance(item, dict):
                    continue
                created = parse_time(item.get("created_at"))
                if created is not None and created < cutoff:
                    break  # newest first: everything further is older than the job
                if item.get("model") not in (None, model):
                    continue
                if version and item.get("version") not in (None, "hidden", version):
                    continue
                if item.get("input") == wanted_input:
                    return self._submission(item, request.job_id)
            else:
                url = page.get("next") if isinstance(page, dict) else None
                continue
            break
        raise unproven_submit(
            "Replicate's prediction list shows no prediction with this job's input since "
            "it was created; the submit may still have been accepted, so it is not resent"
        )

    # --- helpers ------------------------------------------------------------------------
    def _get(self, submission: Submission, *, op: str) -> dict[str, Any]:
        caller = self._caller
        url = (
            submission.handle.get("get_url") or f"{self._base}/predictions/{submission.request_id}"
        )
        response = caller.call(
            "GET", url, op=op, job_id=submission.handle.get("job_id"), headers=self._headers()
        )
        self._raise_for_status(response, known_request=True)
        prediction = caller.json(response)
        if not isinstance(prediction, dict):
            raise ProviderError(ErrorCode.PROVIDER_ERROR, "Replicate answer is not an object")
        return prediction

    def _submission(self, prediction: Any, job_id: int, *, submit: bool = False) -> Submission:
        try:
            prediction_id = str(prediction["id"])
        except (KeyError, TypeError):
            raise ProviderError(
                ErrorCode.PROVIDER_ERROR,
                "Replicate answer lacks a prediction id",
                request_sent=submit,
            ) from None
        urls = prediction.get("urls") if isinstance(prediction.get("urls"), dict) else {}
        return Submission(
            request_id=prediction_id,
            handle={
                "get_url": str(urls.get("get") or f"{self._base}/predictions/{prediction_id}"),
                "cancel_url": str(
                    urls.get("cancel") or f"{self._base}/predictions/{prediction_id}/cancel"
                ),
                "job_id": job_id,
            },
        )

    def _report(self, prediction: dict[str, Any]) -> StatusReport:
        status = str(prediction.get("status", ""))
        logs = _log_lines(prediction.get("logs"))
        if status == "starting":
            return StatusReport(State.IN_QUEUE, logs=logs)
        if status == "processing":
            return StatusReport(State.RUNNING, progress=_progress(logs), logs=logs)
        if status == "succeeded":
            return StatusReport(
                State.COMPLETED, progress=100.0, logs=logs, result=_result_info(prediction)
            )
        if status == "canceled":
            return StatusReport(State.CANCELLED, logs=logs)
        if status == "failed":
            return StatusReport(State.FAILED, logs=logs, error=self._failure(prediction))
        if status == "aborted":
            error = ProviderError(
                ErrorCode.PROVIDER_ERROR, "Replicate aborted the prediction before it ran"
            )
            return StatusReport(State.FAILED, logs=logs, error=error)
        raise ProviderError(
            ErrorCode.PROVIDER_ERROR, f"Replicate reported unknown status {status!r}"
        )

    def _failure(self, prediction: dict[str, Any]) -> ProviderError:
        message = self._caller.redact(str(prediction.get("error") or "prediction failed"))
        lowered = message.lower()
        if any(marker in lowered for marker in _CONTENT):
            return ProviderError(ErrorCode.CONTENT_POLICY, message)
        if "timed out" in lowered or "timeout" in lowered:
            return ProviderError(ErrorCode.TIMEOUT, message)
        return ProviderError(ErrorCode.PROVIDER_ERROR, message)

    def _raise_for_status(
        self, response: httpx.Response, *, submit: bool = False, known_request: bool = False
    ) -> None:
        if response.status_code < 300:
            return
        raise replicate_http_error(
            response, self._caller, submit=submit, known_request=known_request
        )


def replicate_http_error(
    response: httpx.Response, caller: Caller, *, submit: bool = False, known_request: bool = False
) -> ProviderError:
    code = response.status_code
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    detail = str(problem.get("detail") or problem.get("title") or response.text[:500])
    text = caller.redact(f"Replicate HTTP {code}: {detail}")
    lowered = detail.lower()
    if code == 401:
        return ProviderError(ErrorCode.AUTH, text)
    if code == 402:
        return ProviderError(ErrorCode.QUOTA, text)
    if code == 403:
        if "credit" in lowered or "billing" in lowered or "disabled" in lowered:
            return ProviderError(ErrorCode.QUOTA, text)
        return ProviderError(ErrorCode.AUTH, text)
    if code == 429:
        match = _THROTTLE.search(detail)
        return rate_limited(
            response, text, body_retry_after=float(match.group(1)) if match else None
        )
    if code in (400, 422):
        if any(marker in lowered for marker in _CONTENT):
            return ProviderError(ErrorCode.CONTENT_POLICY, text)
        fields = {}
        for item in problem.get("invalid_fields") or []:
            if isinstance(item, dict):
                name = str(item.get("field") or "input").removeprefix("input.")
                fields[name] = str(item.get("description") or item.get("type") or "")[:200]
        return ProviderError(ErrorCode.INVALID_INPUT, text, field_errors=fields)
    if code == 404:
        # An unknown model on submit is a configuration mistake; an unknown prediction is gone.
        return ProviderError(ErrorCode.PROVIDER_ERROR, text, permanent=True)
    if code in (408, 504):
        return ProviderError(ErrorCode.TIMEOUT, text, request_sent=submit)
    if code >= 500:
        return ProviderError(ErrorCode.PROVIDER_ERROR, text, request_sent=submit and code == 502)
    return ProviderError(ErrorCode.PROVIDER_ERROR, text)


def _result_info(prediction: dict[str, Any]) -> ResultInfo:
    output = prediction.get("output")
    url = None
    if isinstance(output, str):
        url = output
    elif isinstance(output, list) and output and isinstance(output[-1], str):
        url = output[-1]
    elif isinstance(output, dict):
        url = output.get("video") or output.get("url")
    if not url:
        raise ProviderError(
            ErrorCode.PROVIDER_ERROR, "Replicate output has no video URL", permanent=True
        )
    return ResultInfo(url=str(url), content_type="video/mp4", file_name=str(url).rsplit("/", 1)[-1])


def _safe_status(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("status", "")) if isinstance(body, dict) else ""


def _log_lines(logs: Any) -> tuple[str, ...]:
    if not isinstance(logs, str) or not logs:
        return ()
    lines = [line for line in logs.splitlines() if line.strip()]
    return tuple(line[:500] for line in lines[-MAX_LOG_LINES:])


def _progress(logs: tuple[str, ...]) -> float | None:
    for line in reversed(logs):
        match = _PERCENT.search(line)
        if match and 0 <= int(match.group(1)) <= 100:
            return float(match.group(1))
    return None
