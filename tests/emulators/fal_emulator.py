"""An emulator of fal.ai's queue protocol (queue.fal.run), faithful in paths, status codes
and JSON shapes:

    POST /{endpoint}[?fal_webhook=url]          -> 200 {request_id, status_url, response_url, cancel_url, queue_position}
    GET  /{owner}/{app}/requests/{id}/status    -> IN_QUEUE (+queue_position) | IN_PROGRESS (+logs) | COMPLETED (+error, error_type)
    GET  /{owner}/{app}/requests/{id}           -> {"video": {url, content_type, file_name, file_size}}
    PUT  /{owner}/{app}/requests/{id}/cancel    -> 202 CANCELLATION_REQUESTED | 400 ALREADY_COMPLETED
    GET  /files/{id}/output.mp4                 -> a real MP4

    rest.fal.ai (under /__rest):
    POST /storage/upload/initiate?storage_type=fal-cdn-v3  {content_type, file_name} -> {upload_url, file_url}
    GET  /.well-known/jwks.json                     -> the ED25519 keys webhooks are signed with
    storage (under /__cdn):  PUT upload/{token} (the signed URL), GET files/{id}/{name} (public)
    api.fal.ai (under /__api):
    GET  /v1/models/pricing?endpoint_id=…           -> {"prices": [{endpoint_id, unit_price, unit, currency}]}
    GET  /v1/models/requests/by-endpoint?endpoint_id=…&expand=payloads -> {"items": [...], ...}

Strict like the real service: a submit to an endpoint without a published schema under
tests/emulators/schemas/fal/ is a 404; a body that breaks the schema (unknown field, wrong
type, value outside the enum, missing required field) is a 422 in fal's pydantic `detail`
shape; every image input is downloaded anonymously, as a runner would, and a 422 when it
cannot be read. Webhooks are signed as fal signs them (ED25519 over request id, user id,
timestamp and the body's SHA-256, hex signature; keys served as JWKS).

Status, result and cancel answer only under the owner/app prefix (as fal does), so a
client that builds URLs from the full endpoint instead of using the returned ones gets 404.
Point settings.FAL_QUEUE_URL at `emulator.url`, FAL_REST_URL at `emulator.rest_url`,
FAL_API_URL at `emulator.api_url`, FAL_JWKS_URL at `emulator.jwks_url` and FAL_KEY at
`emulator.key` (fixtures.fal_settings does all of it).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import time
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import strict
from .base import Emulator, Fault, Record, _Handler, fetch_like_a_runner, sample_mp4

LOCKED = (
    "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing."
)
CONTENT_POLICY_MSG = (
    "The content could not be processed because it contained material flagged by a content checker."
)


DOWNLOAD_ERROR = "Failed to download the file. Please check if the URL is accessible."
IMAGE_LOAD_ERROR = "Failed to load the image. Please check if the image is valid."
USER_ID = "emulator-user"


class FalEmulator(Emulator):
    name = "fal"

    def __init__(self, *, key: str = "test-fal-key", **options: Any):
        super().__init__(key=key, **options)
        self.signing_key = Ed25519PrivateKey.generate()
        self.sign_webhooks = True  # tests switch it off to send unsigned webhooks
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> {data, content_type, name}
        self._pending_uploads: dict[str, dict[str, Any]] = {}
        self._upload_ids = itertools.count(1)
        # endpoint -> unit price the pricing API reports (tests change it); default: the
        # figure recorded with the endpoint's schema.
        self.prices: dict[str, tuple[Decimal, str]] = {}

    @property
    def rest_url(self) -> str:
        return f"{self.url}/__rest"

    @property
    def api_url(self) -> str:
        return f"{self.url}/__api"

    @property
    def jwks_url(self) -> str:
        return f"{self.rest_url}/.well-known/jwks.json"

    def settings_env(self) -> dict[str, str]:
        """The settings that point Cutroom at this emulator (names as in settings.py)."""
        return {
            "FAL_QUEUE_URL": self.url,
            "FAL_REST_URL": self.rest_url,
            "FAL_API_URL": self.api_url,
            "FAL_JWKS_URL": self.jwks_url,
            "FAL_KEY": self.key,
        }

    def expire_uploads(self) -> None:
        """fal storage forgot every uploaded file (they now answer 404)."""
        with self.lock:
            self.uploads.clear()

    # --- routing ------------------------------------------------------------------------
    def route(
        self, handler: _Handler, method: str, parts: list[str], query: dict, body: Any, raw: bytes
    ) -> None:
        if parts[:1] == ["__rest"]:
            return self._rest(handler, method, parts[1:], query, body)
        if parts[:1] == ["__cdn"]:
            return self._cdn(handler, method, parts[1:], raw)
        if parts[:1] == ["__api"]:
            return self._platform(handler, method, parts[1:], query)
        if len(parts) >= 4 and parts[2] == "requests":
            app, request_id, rest = "/".join(parts[:2]), parts[3], parts[4:]
            if method == "GET" and rest == ["status"]:
                return self._status(handler, app, request_id, query)
            if method == "GET" and rest == []:
                return self._result(handler, app, request_id)
            if method == "PUT" and rest == ["cancel"]:
                return self._cancel(handler, app, request_id)
            return handler.send_json(405, {"detail": "Method Not Allowed"})
        if method == "POST" and len(parts) >= 2:
            return self._submit(handler, parts, query, body)
        return handler.send_json(404, {"detail": "Not Found"})

    def _authorised(self, handler: _Handler) -> bool:
        if handler.bearer() == f"Key {self.key}":
            return True
        handler.send_json(401, {"detail": "No user found for Key ID and Secret"})
        return False

    def _common_fault(self, handler: _Handler, fault: Fault | None) -> bool:
        if fault is None:
            return False
        kind = fault.kind
        if kind == "unauthorized":
            handler.send_json(401, {"detail": "No user found for Key ID and Secret"})
        elif kind == "locked":
            handler.send_json(403, {"detail": LOCKED})
        elif kind == "field_error":
            handler.send_json(
                422,
                {
                    "detail": [
                        {
                            "loc": ["body", "duration"],
                            "msg": "value is not a valid enumeration member; permitted: '6', '10'",
                            "type": "type_error.enum",
                        }
                    ]
                },
            )
        elif kind == "content_policy":
            handler.send_json(
                422,
                {
                    "detail": [
                        {
                            "loc": ["body", "prompt"],
                            "msg": CONTENT_POLICY_MSG,
                            "type": "content_policy_violation",
                        }
                    ]
                },
            )
        elif kind == "rate_limited":
            handler.send_json(
                429, {"detail": "Too many requests"}, {"Retry-After": f"{fault.retry_after:g}"}
            )
        elif kind in ("server_error", "unavailable"):
            status = 500 if kind == "server_error" else 503
            error_type = fault.error_type or (
                "internal_error" if status == 500 else "runner_scheduling_failure"
            )
            handler.send_json(
                status,
                {"detail": fault.error or "Internal Server Error", "error_type": error_type},
                {"X-Fal-Error-Type": error_type},
            )
        elif kind in ("hang", "reset", "malformed_json"):
            return self.apply_transport_fault(handler, fault)
        else:
            return False
        return True

    # --- operations ---------------------------------------------------------------------
    def _submit(self, handler: _Handler, parts: list[str], query: dict, body: Any) -> None:
        self.bump("submits_received")
        fault = self.take_fault("submit", None)
        if self._common_fault(handler, fault) or not self._authorised(handler):
            return
        endpoint = "/".join(parts)
        schema = strict.load("fal", endpoint)
        if schema is None:
            self.bump("submits_refused")
            return handler.send_json(404, {"detail": f"Application '{endpoint}' not found"})
        problems = strict.violations(schema, body)
        if problems:
            self.bump("submits_refused")
            return handler.send_json(422, {"detail": [_pydantic(v, body) for v in problems]})
        fetched, fetch_error = self._fetch_images(schema, body)
        if fetch_error is not None:
            self.bump("submits_refused")
            return handler.send_json(422, {"detail": [fetch_error]})
        endpoint = "/".join(parts)
        record = Record(
            id=self.new_id(),
            app="/".join(parts[:2]),
            endpoint=endpoint,
            input=body,
            webhook=query.get("fal_webhook"),
            fetched=fetched,
        )
        with self.lock:
            self.records[record.id] = record
        self.bump("submits_accepted")
        if fault and fault.kind in ("accept_then_hang", "accept_then_reset"):
            self.apply_transport_fault(handler, fault)
            return
        base = f"{self.url}/{record.app}/requests/{record.id}"
        handler.send_json(
            200,
            {
                "request_id": record.id,
                "response_url": base,
                "status_url": f"{base}/status",
                "cancel_url": f"{base}/cancel",
                "queue_position": self.queue_polls,
            },
        )

    def _lookup(self, handler: _Handler, app: str, request_id: str) -> Record | None:
        record = self.records.get(request_id)
        if record is None or record.app != app:
            handler.send_json(404, {"detail": f"Request {request_id} not found"})
            return None
        return record

    def _status(self, handler: _Handler, app: str, request_id: str, query: dict) -> None:
        self.bump("status_calls")
        fault = self.take_fault("status", request_id)
        if fault and fault.kind == "completed_error":
            with self.lock:
                if request_id in self.records:
                    self.records[request_id].error = fault
                    self.records[request_id].completed = True
            fault = None
        if self._common_fault(handler, fault) or not self._authorised(handler):
            return
        record = self._lookup(handler, app, request_id)
        if record is None:
            return
        phase, value = self.phase(record, poll=True)
        with_logs = query.get("logs") == "1"
        response_url = f"{self.url}/{record.app}/requests/{record.id}"
        if phase == "queued":
            return handler.send_json(
                200, {"status": "IN_QUEUE", "queue_position": value, "response_url": response_url}
            )
        logs = self._logs(record) if with_logs else None
        if phase == "running":
            return handler.send_json(
                200, {"status": "IN_PROGRESS", "logs": logs, "response_url": response_url}
            )
        payload: dict[str, Any] = {
            "status": "COMPLETED",
            "logs": logs,
            "response_url": response_url,
        }
        if phase == "cancelled":
            payload.update(
                error="Request was cancelled by the client", error_type="client_cancelled"
            )
        elif record.error is not None:
            payload.update(
                error=record.error.error or "Request timed out while running",
                error_type=record.error.error_type or "request_timeout",
            )
        else:
            payload["metrics"] = {"inference_time": 1.25}
        self._maybe_webhook(record)
        handler.send_json(200, payload)

    def _result(self, handler: _Handler, app: str, request_id: str) -> None:
        self.bump("result_calls")
        fault = self.take_fault("result", request_id)
        if self._common_fault(handler, fault) or not self._authorised(handler):
            return
        record = self._lookup(handler, app, request_id)
        if record is None:
            return
        phase, _ = self.phase(record, poll=False)
        if phase != "completed":
            return handler.send_json(400, {"detail": "Request is still in progress"})
        if record.error is not None:
            error_type = record.error.error_type or "request_timeout"
            if error_type == "content_policy_violation":
                # A model-side refusal: fal answers the result with the model's 422 list.
                return handler.send_json(
                    422,
                    {
                        "detail": [
                            {
                                "loc": ["body", "prompt"],
                                "msg": record.error.error or CONTENT_POLICY_MSG,
                                "type": "content_policy_violation",
                                "url": "https://docs.fal.ai/errors#content_policy_violation",
                                "ctx": {},
                            }
                        ]
                    },
                    {"X-Fal-Error-Type": error_type},
                )
            return handler.send_json(
                500,
                {"detail": record.error.error or "Request failed", "error_type": error_type},
                {"X-Fal-Error-Type": error_type},
            )
        handler.send_json(200, self.output(record))

    def _cancel(self, handler: _Handler, app: str, request_id: str) -> None:
        self.bump("cancels")
        fault = self.take_fault("cancel", request_id)
        if self._common_fault(handler, fault) or not self._authorised(handler):
            return
        record = self._lookup(handler, app, request_id)
        if record is None:
            return
        with self.lock:
            if record.completed:
                return handler.send_json(400, {"status": "ALREADY_COMPLETED"})
            record.cancelled = True
        handler.send_json(202, {"status": "CANCELLATION_REQUESTED"})

    def _fetch_images(self, schema, body: dict) -> tuple[dict[str, bytes], dict | None]:
        fetched: dict[str, bytes] = {}
        with self.lock:
            local = {self._file_url(fid, u["name"]): u["data"] for fid, u in self.uploads.items()}
        for name in schema.image_inputs:
            if name not in body:
                continue
            data = fetch_like_a_runner(body[name], local)
            if data is None:
                self.bump("image_fetch_failures")
                return fetched, {
                    "loc": ["body", name],
                    "msg": DOWNLOAD_ERROR,
                    "type": "file_download_error",
                    "url": "https://docs.fal.ai/errors#file_download_error",
                    "input": body[name] if len(str(body[name])) < 300 else "…",
                }
            fetched[name] = data
        return fetched, None

    # --- rest.fal.ai: storage and signing keys -------------------------------------------
    def _rest(self, handler: _Handler, method: str, parts: list[str], query: dict, body: Any):
        if method == "GET" and parts == [".well-known", "jwks.json"]:
            raw = self.signing_key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            return handler.send_json(
                200, {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "emulator"}]}
            )
        if method == "POST" and parts == ["storage", "upload", "initiate"]:
            self.bump("upload_initiates")
            if not self._authorised(handler):
                return
            if query.get("storage_type") != "fal-cdn-v3":
                # What a third-party report says fal answers for the retired "gcs".
                return handler.send_json(400, {"detail": "Invalid storage type"})
            lifecycle = handler.headers.get("X-Fal-Object-Lifecycle")
            expires_s = None
            if lifecycle:
                try:
                    expires_s = json.loads(lifecycle)["expiration_duration_seconds"]
                except (ValueError, KeyError, TypeError):
                    return handler.send_json(422, {"detail": "Invalid X-Fal-Object-Lifecycle"})
            if not isinstance(body, dict) or not isinstance(body.get("content_type"), str):
                return handler.send_json(
                    422,
                    {
                        "detail": [
                            {
                                "loc": ["body", "content_type"],
                                "msg": "Field required",
                                "type": "missing",
                            }
                        ]
                    },
                )
            file_id = f"{next(self._upload_ids):05d}{secrets.token_hex(6)}"
            token = secrets.token_urlsafe(16)
            name = str(body.get("file_name") or "file")
            with self.lock:
                self._pending_uploads[token] = {
                    "id": file_id,
                    "name": name,
                    "content_type": body["content_type"],
                    "expires_s": expires_s,
                }
            return handler.send_json(
                200,
                {
                    "upload_url": f"{self.url}/__cdn/upload/{token}?X-Goog-Signature=emulated",
                    "file_url": self._file_url(file_id, name),
                },
            )
        return handler.send_json(404, {"detail": "Not Found"})

    def _file_url(self, file_id: str, name: str) -> str:
        return f"{self.url}/__cdn/files/{file_id}/{name}"

    def _cdn(self, handler: _Handler, method: str, parts: list[str], raw: bytes):
        if method == "PUT" and len(parts) == 2 and parts[0] == "upload":
            with self.lock:
                pending = self._pending_uploads.pop(parts[1], None)
            if pending is None:
                return handler.send_raw(403, b"<Error>SignatureDoesNotMatch</Error>", "text/xml")
            if handler.headers.get("Content-Type") != pending["content_type"]:
                # A GCS signed URL covers the content type it was issued for.
                return handler.send_raw(403, b"<Error>SignatureDoesNotMatch</Error>", "text/xml")
            if handler.headers.get("Authorization"):
                return handler.send_raw(400, b"<Error>InvalidAuthentication</Error>", "text/xml")
            with self.lock:
                self.uploads[pending["id"]] = {**pending, "data": raw}
            self.bump("uploads")
            return handler.send_raw(200, b"", "text/plain")
        if method == "GET" and len(parts) == 3 and parts[0] == "files":
            with self.lock:
                upload = self.uploads.get(parts[1])
            if upload is None or upload["name"] != parts[2]:
                return handler.send_raw(404, b"Not Found", "text/plain")
            return handler.send_raw(200, upload["data"], upload["content_type"])
        return handler.send_raw(404, b"Not Found", "text/plain")

    # --- api.fal.ai: pricing and request listing -----------------------------------------
    def _platform(self, handler: _Handler, method: str, parts: list[str], query: dict):
        if not self._authorised(handler):
            return
        if method == "GET" and parts == ["v1", "models", "pricing"]:
            self.bump("pricing_calls")
            ids = handler.query_all.get("endpoint_id", [])
            if not ids:
                return handler.send_json(
                    400,
                    {"error": {"type": "validation_error", "message": "endpoint_id is required"}},
                )
            prices = []
            for endpoint in ids:
                price = self.price_of(endpoint)
                if price is None:
                    return handler.send_json(
                        404,
                        {
                            "error": {
                                "type": "not_found",
                                "message": f"Endpoint {endpoint} not found",
                            }
                        },
                    )
                unit_price, unit = price
                prices.append(
                    {
                        "endpoint_id": endpoint,
                        "unit_price": float(unit_price),
                        "unit": unit,
                        "currency": "USD",
                    }
                )
            return handler.send_json(
                200, {"prices": prices, "next_cursor": None, "has_more": False}
            )
        if method == "GET" and parts == ["v1", "models", "requests", "by-endpoint"]:
            self.bump("request_list_calls")
            endpoint = query.get("endpoint_id")
            if not endpoint:
                return handler.send_json(
                    400,
                    {"error": {"type": "validation_error", "message": "endpoint_id is required"}},
                )
            expand = "payloads" in handler.query_all.get("expand", [])
            with self.lock:
                records = [r for r in self.records.values() if r.endpoint == endpoint]
            records.sort(key=lambda r: r.created, reverse=True)
            items = []
            for record in records[: int(query.get("limit") or 50)]:
                item = {
                    "request_id": record.id,
                    "endpoint_id": record.endpoint,
                    "sent_at": record.created_at,
                    "status_code": 200 if record.completed else None,
                }
                if expand:
                    item["json_input"] = record.input
                items.append(item)
            return handler.send_json(200, {"items": items, "next_cursor": None, "has_more": False})
        return handler.send_json(404, {"error": {"type": "not_found", "message": "Not Found"}})

    def price_of(self, endpoint: str) -> tuple[Decimal, str] | None:
        if endpoint in self.prices:
            return self.prices[endpoint]
        schema = strict.load("fal", endpoint)
        if schema is None:
            return None
        rule = schema.price.get("rule") or {}
        for field_name, unit in (
            ("usd_per_s", "seconds"),
            ("usd", "videos"),
            ("base_usd", "videos"),
        ):
            if field_name in rule:
                return Decimal(str(rule[field_name])), unit
        if "usd_per_million" in rule:
            return Decimal(str(rule["usd_per_million"])), "1m tokens"
        return Decimal("0.10"), "seconds"

    # --- payloads -----------------------------------------------------------------------
    def output(self, record: Record) -> dict[str, Any]:
        return {
            "video": {
                "url": self.file_url(record.id),
                "content_type": "video/mp4",
                "file_name": "output.mp4",
                "file_size": len(sample_mp4()),
            }
        }

    def _logs(self, record: Record) -> list[dict[str, Any]]:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        steps = max(1, record.polls - self.queue_polls)
        return [
            {
                "message": f"Generating video: step {i}",
                "level": "INFO",
                "source": "user",
                "timestamp": stamp,
            }
            for i in range(1, steps + 1)
        ]

    def webhook_payload(self, record: Record) -> dict[str, Any]:
        if record.error is not None or record.cancelled:
            return {
                "request_id": record.id,
                "gateway_request_id": record.id,
                "status": "ERROR",
                "error": (record.error.error if record.error else "") or "Request failed",
                "payload": {
                    "detail": [
                        {
                            "msg": "Request failed",
                            "type": (
                                record.error.error_type if record.error else "client_cancelled"
                            ),
                        }
                    ]
                },
            }
        return {
            "request_id": record.id,
            "gateway_request_id": record.id,
            "status": "OK",
            "payload": self.output(record),
        }

    def webhook_headers(self, record: Record, body: bytes) -> dict[str, str]:
        return self.signed_headers(record.id, body)

    def signed_headers(
        self, request_id: str, body: bytes, *, timestamp: int | None = None
    ) -> dict[str, str]:
        """The headers fal sends with a webhook: the signature covers request id, user id,
        timestamp and the hex SHA-256 of the body, one per line, signed with ED25519."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "X-Fal-Webhook-Request-Id": request_id,
            "X-Fal-Webhook-User-Id": USER_ID,
            "X-Fal-Webhook-Timestamp": stamp,
        }
        if self.sign_webhooks:
            message = "\n".join(
                [request_id, USER_ID, stamp, hashlib.sha256(body).hexdigest()]
            ).encode()
            headers["X-Fal-Webhook-Signature"] = self.signing_key.sign(message).hex()
        return headers


def _pydantic(violation: strict.Violation, body: Any) -> dict[str, Any]:
    """One entry of fal's 422 `detail` list (pydantic v2 style)."""
    kinds = {
        "missing": "missing",
        "extra_forbidden": "extra_forbidden",
        "enum": "literal_error",
        "type": "type_error",
        "range": "value_error",
        "length": "string_too_short" if "too short" in violation.message else "string_too_long",
        "invalid": "value_error",
    }
    entry: dict[str, Any] = {
        "loc": ["body", *violation.loc],
        "msg": violation.message,
        "type": kinds.get(violation.kind, "value_error"),
    }
    value: Any = body
    for part in violation.loc:
        value = value.get(part) if isinstance(value, dict) else None
    if violation.kind != "missing":
        entry["input"] = value if len(json.dumps(value, default=str)) < 300 else "…"
    return entry
