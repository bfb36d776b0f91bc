"""HTTP plumbing shared by the hosted providers: one timed, logged, classified call.

Every call has a timeout (settings.PROVIDER_HTTP_TIMEOUT_S), logs exactly one line
(provider, operation, method, URL path without its query, job id, status, latency, error
code) with secrets redacted, and turns transport failures into ProviderError.
"""

from __future__ import annotations

import email.utils
import logging
import os
import ssl
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpx
from django.conf import settings

from ..metrics import record_provider_call
from .base import RESULT_EXPIRED, RESULT_TOO_LARGE, ErrorCode, ProviderError, redact

logger = logging.getLogger("generation.providers")


_SSL_CONTEXT: ssl.SSLContext | None = None


def ssl_context() -> ssl.SSLContext:
    """One verified TLS context per process. Building one loads the CA bundle (~55 ms
    here), which httpx.Client() otherwise does on every call; a context is safe to share
    between threads and to inherit across fork."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = ssl.create_default_context(cafile=certifi.where())
    return _SSL_CONTEXT


def timeout() -> httpx.Timeout:
    total = float(settings.PROVIDER_HTTP_TIMEOUT_S)
    return httpx.Timeout(total, connect=min(total, 10.0))


def loggable_url(url: str) -> str:
    """Scheme, host and path only: query strings carry webhook URLs and tokens."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp from a provider's answer ("…Z" included), aware, or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def transport_error(exc: httpx.HTTPError, *, submit: bool) -> ProviderError:
    """Classify a failure that produced no HTTP response.

    request_sent tells the pipeline whether a submit may have reached the provider: once
    the body has been written (read timeout, reset while waiting for the answer) it must
    be reconciled, never blindly resent."""
    name = type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError | httpx.PoolTimeout):
        return ProviderError(ErrorCode.NETWORK, f"{name}: could not connect")
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError(
            ErrorCode.TIMEOUT, f"{name}: no answer within {timeout().read} s", request_sent=submit
        )
    return ProviderError(ErrorCode.NETWORK, f"{name}: connection failed", request_sent=submit)


class Caller:
    """Makes the calls for one provider; `secrets` are scrubbed from every logged line."""

    def __init__(self, provider: str, secrets: tuple[str, ...] = ()):
        self.provider = provider
        self.secrets = secrets

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def call(
        self,
        method: str,
        url: str,
        *,
        op: str,
        job_id: int | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        content: bytes | None = None,
        files: dict[str, Any] | None = None,
        submit: bool = False,
    ) -> httpx.Response:
        started = time.monotonic()
        status: int | None = None
        error = ""
        try:
            with httpx.Client(
                timeout=timeout(), follow_redirects=False, verify=ssl_context()
            ) as client:
                response = client.request(
                    method,
                    url,
                    headers=headers,
                    json=json,
                    params=params,
                    content=content,
                    files=files,
                )
                status = response.status_code
                return response
        except httpx.HTTPError as exc:
            failure = transport_error(exc, submit=submit)
            error = failure.code
            raise failure from None
        finally:
            self._log(op, method, url, job_id, status, started, error)

    def _log(self, op, method, url, job_id, status, started, error) -> None:
        latency_ms = int((time.monotonic() - started) * 1000)
        record_provider_call(
            provider=self.provider, op=op, latency_ms=latency_ms, error_code=error or None
        )
        logger.info(
            self.redact(
                f"provider={self.provider} op={op} {method} {loggable_url(url)} job={job_id} "
                f"status={status} latency_ms={latency_ms} error={error or '-'}"
            ),
            extra={
                "provider": self.provider,
                "op": op,
                "job_id": job_id,
                "status_code": status,
                "latency_ms": latency_ms,
                "error_code": error or None,
            },
        )

    def json(self, response: httpx.Response, *, submit: bool = False) -> Any:
        try:
            return response.json()
        except ValueError:
            # A 2xx submit with a garbled body was most likely accepted: reconcile it.
            raise ProviderError(
                ErrorCode.PROVIDER_ERROR,
                self.redact(f"malformed JSON from {self.provider} (HTTP {response.status_code})"),
                request_sent=submit,
            ) from None


@dataclass(frozen=True)
class Downloaded:
    path: Path
    size_bytes: int
    content_type: str


def fetch_result(
    url: str,
    dest: str | os.PathLike,
    *,
    max_bytes: int | None = None,
    job_id: int | None = None,
    provider: str = "result",
) -> Downloaded:
    """Stream a finished video to `dest` (written whole or not at all).

    Never sends provider credentials: result URLs live on CDNs, not on the API host.
    Refuses bodies over GENERATION_MAX_RESULT_MB whether the server announces them in
    Content-Length or just keeps streaming. 404/410 means the URL expired (permanent)."""
    if max_bytes is None:
        max_bytes = int(settings.GENERATION_MAX_RESULT_MB) * 1024 * 1024
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ProviderError(
            ErrorCode.PROVIDER_ERROR, f"unsupported result URL scheme {scheme!r}", permanent=True
        )
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    caller = Caller(provider)
    started = time.monotonic()
    status: int | None = None
    error = ""
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".part-", suffix=dest.suffix)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            httpx.Client(timeout=timeout(), verify=ssl_context()) as client,
        ):
            with client.stream("GET", url, follow_redirects=True) as response:
                status = response.status_code
                _check_download_status(response)
                announced = response.headers.get("content-length")
                if announced and announced.isdigit() and int(announced) > max_bytes:
                    raise _too_large(int(announced), max_bytes)
                written = 0
                # The read timeout only bounds the gap between bytes: a server that
                # trickles a byte now and then would hold this worker slot forever.
                deadline = started + float(settings.GENERATION_DOWNLOAD_TIMEOUT_S)
                # Chunks as they arrive (a fixed chunk size would buffer a trickle out of
                # sight of the deadline check).
                for chunk in response.iter_bytes():
                    if time.monotonic() > deadline:
                        raise ProviderError(
                            ErrorCode.TIMEOUT,
                            f"download not finished within {deadline - started:.0f} s "
                            f"({written} bytes so far)",
                        )
                    written += len(chunk)
                    if written > max_bytes:
                        raise _too_large(written, max_bytes)
                    out.write(chunk)
                content_type = response.headers.get("content-type", "")
        os.replace(tmp, dest)
        return Downloaded(dest, written, content_type)
    except httpx.HTTPError as exc:
        failure = transport_error(exc, submit=False)
        error = failure.code
        raise failure from None
    except ProviderError as exc:
        error = exc.code
        raise
    finally:
        tmp.unlink(missing_ok=True)
        caller._log("download", "GET", url, job_id, status, started, error)


def rate_limited(
    response: httpx.Response, detail: str, *, body_retry_after: float | None = None
) -> ProviderError:
    """An HTTP 429 from any provider call, one way: RATE_LIMITED (retried by the pipeline's
    one retry policy) with the wait the provider asked for — its Retry-After header, else
    what the caller read from the body (Replicate says "resets in ~Ns")."""
    header = retry_after_seconds(response.headers.get("retry-after"))
    wait = header if header is not None else body_retry_after
    return ProviderError(ErrorCode.RATE_LIMITED, detail, retry_after=wait)


def _check_download_status(response: httpx.Response) -> None:
    code = response.status_code
    if code < 300:
        return
    if code in (404, 410):
        raise ProviderError(
            ErrorCode.PROVIDER_ERROR,
            f"result URL expired or missing (HTTP {code})",
            permanent=True,
            reason=RESULT_EXPIRED,
        )
    if code in (401, 403):
        raise ProviderError(
            ErrorCode.PROVIDER_ERROR, f"result URL refused (HTTP {code})", permanent=True
        )
    if code == 429:
        raise rate_limited(response, "result download rate limited")
    if code in (408, 504):
        raise ProviderError(ErrorCode.TIMEOUT, f"result download timed out (HTTP {code})")
    raise ProviderError(ErrorCode.PROVIDER_ERROR, f"result download failed (HTTP {code})")


def _too_large(size: int, limit: int) -> ProviderError:
    return ProviderError(
        ErrorCode.PROVIDER_ERROR,
        f"result is larger than the {limit // (1024 * 1024)} MB limit ({size} bytes seen)",
        permanent=True,
        reason=RESULT_TOO_LARGE,
    )
