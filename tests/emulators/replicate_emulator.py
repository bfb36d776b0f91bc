"""An emulator of Replicate's predictions API (api.replicate.com/v1):

    POST /v1/models/{owner}/{name}/predictions   -> 201 prediction
    POST /v1/predictions  {"version": ...}        -> 201 prediction
    GET  /v1/predictions/{id}                     -> starting | processing | succeeded | failed | canceled
    POST /v1/predictions/{id}/cancel              -> 200 prediction
    GET  /v1/predictions[?cursor=n]               -> {"next", "previous", "results"} newest first
    GET  /v1/account                              -> {type, username, name}
    GET  /files/{id}/output.mp4                   -> a real MP4

Errors are RFC 7807 problem documents. Webhooks are signed the Standard Webhooks way
(webhook-id / webhook-timestamp / webhook-signature "v1,<base64 HMAC-SHA256>") with
`webhook_secret`. Point settings.REPLICATE_API_URL at `emulator.api_url` and
settings.REPLICATE_API_TOKEN at `emulator.key`.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import hmac
import itertools
import secrets
import time
from typing import Any

from . import strict
from .base import Emulator, Fault, Record, _Handler, fetch_like_a_runner

CREDIT = (
    "You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing "
    "to purchase credit. Once you purchase credit, please wait a few minutes before trying again."
)
SENSITIVE = (
    "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
)


def problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "https://replicate.com/docs/reference/http#errors",
        "title": title,
        "detail": detail,
        "status": status,
        **extra,
    }


class ReplicateEmulator(Emulator):
    name = "replicate"

    def __init__(
        self,
        *,
        key: str = "r8_testtoken0000000000000000000000000000",
        webhook_secret: str = "whsec_"
        + base64.b64encode(b"emulator-webhook-secret-32-bytes").decode(),
        list_page_size: int = 100,
        **options: Any,
    ):
        super().__init__(key=key, **options)
        self.webhook_secret = webhook_secret
        self.list_page_size = list_page_size
        self.files: dict[str, dict[str, Any]] = {}  # id -> {data, content_type, name}
        self._file_ids = itertools.count(1)

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1"

    def settings_env(self) -> dict[str, str]:
        """The settings that point Cutroom at this emulator (names as in settings.py)."""
        return {"REPLICATE_API_URL": self.api_url, "REPLICATE_API_TOKEN": self.key}

    def route(
        self, handler: _Handler, method: str, parts: list[str], query: dict, body: Any, raw: bytes
    ) -> None:
        if parts[:1] != ["v1"]:
            return handler.send_json(
                404, problem(404, "Not found", "The requested resource could not be found")
            )
        parts = parts[1:]
        if method == "POST" and parts == ["predictions"]:
            return self._create(handler, None, body)
        if (
            method == "POST"
            and len(parts) == 4
            and parts[0] == "models"
            and parts[3] == "predictions"
        ):
            return self._create(handler, f"{parts[1]}/{parts[2]}", body)
        if method == "GET" and parts == ["predictions"]:
            return self._list(handler, query)
        if method == "GET" and parts == ["account"]:
            return self._account(handler)
        if method == "GET" and parts == ["webhooks", "default", "secret"]:
            if not self._authorised(handler):
                return
            return handler.send_json(200, {"key": self.webhook_secret})
        if method == "POST" and parts == ["files"]:
            return self._upload(handler, raw)
        if method == "GET" and len(parts) == 2 and parts[0] == "files":
            if not self._authorised(handler):
                return
            item = self.files.get(parts[1])
            if item is None:
                return handler.send_json(404, {"detail": "File not found"})
            return handler.send_json(200, self._file_object(parts[1], item))
        if method == "GET" and len(parts) == 2 and parts[0] == "predictions":
            return self._get(handler, parts[1])
        if (
            method == "POST"
            and len(parts) == 3
            and parts[0] == "predictions"
            and parts[2] == "cancel"
        ):
            return self._cancel(handler, parts[1])
        return handler.send_json(
            404, problem(404, "Not found", "The requested resource could not be found")
        )

    def _authorised(self, handler: _Handler) -> bool:
        if handler.bearer() == f"Bearer {self.key}":
            return True
        handler.send_json(
            401, problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        )
        return False

    def _common_fault(self, handler: _Handler, fault: Fault | None) -> bool:
        if fault is None:
            return False
        kind = fault.kind
        if kind == "unauthorized":
            handler.send_json(
                401,
                problem(401, "Unauthenticated", "You did not pass a valid authentication token"),
            )
        elif kind in ("insufficient_credit", "locked"):
            handler.send_json(402, problem(402, "Insufficient credit", CREDIT))
        elif kind == "field_error":
            description = "duration must be one of the following: 5, 10"
            handler.send_json(
                422,
                problem(
                    422,
                    "Input validation failed",
                    f"- input.duration: {description}",
                    invalid_fields=[
                        {"type": "enum", "field": "input.duration", "description": description}
                    ],
                ),
            )
        elif kind == "content_policy":
            handler.send_json(422, problem(422, "Input validation failed", SENSITIVE))
        elif kind == "rate_limited":
            handler.send_json(
                429,
                problem(
                    429,
                    "Request was throttled",
                    f"Request was throttled. Expected available in {fault.retry_after:g} seconds.",
                ),
                {"Retry-After": f"{fault.retry_after:g}"},
            )
        elif kind in ("server_error", "unavailable"):
            status = 500 if kind == "server_error" else 503
            handler.send_json(
                status,
                problem(
                    status,
                    "Internal Server Error" if status == 500 else "Service Unavailable",
                    fault.error or "Something went wrong",
                ),
            )
        elif kind in ("hang", "reset", "malformed_json"):
            return self.apply_transport_fault(handler, fault)
        else:
            return False
        return True

    # --- operations ---------------------------------------------------------------------
    def _create(self, handler: _Handler, model: str | None, body: Any) -> None:
        self.bump("submits_received")
        fault = self.take_fault("submit", None)
        if self._common_fault(handler, fault) or not self._authorised(handler):
            return
        body = body if isinstance(body, dict) else {}
        payload = body.get("input")
        schema = strict.load("replicate", model) if model else None
        if model is not None and schema is None:
            return handler.send_json(
                404, {"detail": "The requested resource could not be found.", "status": 404}
            )
        if schema is not None:
            problems = strict.violations(schema, payload)
            if problems:
                self.bump("submits_refused")
                return handler.send_json(422, _invalid(problems))
            fetched, bad = self._fetch_images(schema, payload)
            if bad is not None:
                self.bump("submits_refused")
                description = f"{bad}: could not download the file"
                return handler.send_json(
                    422,
                    {
                        "detail": f"- input.{description}\n",
                        "status": 422,
                        "title": "Input validation failed",
                        "invalid_fields": [
                            {
                                "type": "invalid_file",
                                "field": f"input.{bad}",
                                "description": description,
                            }
                        ],
                    },
                )
        else:
            fetched = {}
        if model is None and not body.get("version"):
            return handler.send_json(422, problem(422, "Invalid version", "version is required"))
        record = Record(
            id=self.new_id(),
            app=model or "owner/versioned-model",
            endpoint=str(body.get("version") or model),
            input=payload,
            webhook=body.get("webhook"),
            fetched=fetched,
        )
        record.events = list(body.get("webhook_events_filter") or [])  # type: ignore[attr-defined]
        with self.lock:
            self.records[record.id] = record
        self.bump("submits_accepted")
        if fault and fault.kind in ("accept_then_hang", "accept_then_reset"):
            self.apply_transport_fault(handler, fault)
            return
        handler.send_json(201, self.prediction(record, poll=False))

    def _get(self, handler: _Handler, prediction_id: str) -> None:
        self.bump("status_calls")
        fault = self.take_fault("status", prediction_id)
        if fault and fault.kind == "completed_error":
            with self.lock:
                if prediction_id in self.records:
                    self.records[prediction_id].error = fault
                    self.records[prediction_id].completed = True
            fault = None
        if self._common_fault(handler, fault) or not self._authorised(handler):
            return
        record = self.records.get(prediction_id)
        if record is None:
            return handler.send_json(
                404, problem(404, "Not found", "The requested resource could not be found")
            )
        prediction = self.prediction(record, poll=True)
        if prediction["status"] in ("succeeded", "failed", "canceled"):
            self._maybe_webhook(record)
        handler.send_json(200, prediction)

    def _cancel(self, handler: _Handler, prediction_id: str) -> None:
        self.bump("cancels")
        fault = self.take_fault("cancel", prediction_id)
        if self._common_fault(handler, fault) or not self._authorised(handler):
            return
        record = self.records.get(prediction_id)
        if record is None:
            return handler.send_json(
                404, problem(404, "Not found", "The requested resource could not be found")
            )
        with self.lock:
            if not record.completed:
                record.cancelled = True
        handler.send_json(200, self.prediction(record, poll=False))

    def _list(self, handler: _Handler, query: dict) -> None:
        self.bump("list_calls")
        fault = self.take_fault("list", None)
        if self._common_fault(handler, fault) or not self._authorised(handler):
            return
        start = int(query.get("cursor") or 0)
        with self.lock:
            records = sorted(self.records.values(), key=lambda r: r.created, reverse=True)
        page = records[start : start + self.list_page_size]
        more = start + self.list_page_size < len(records)
        handler.send_json(
            200,
            {
                "next": f"{self.api_url}/predictions?cursor={start + self.list_page_size}"
                if more
                else None,
                "previous": None,
                # The documented list entry has no webhook fields (nor logs): a client that
                # reconciles by webhook URL finds nothing here, as with the real API.
                "results": [_list_entry(self.prediction(r, poll=False)) for r in page],
            },
        )

    def _account(self, handler: _Handler) -> None:
        """GET /v1/account: who the token belongs to (the admin's connection test)."""
        self.bump("account_calls")
        fault = self.take_fault("account", None)
        if self._common_fault(handler, fault) or not self._authorised(handler):
            return
        handler.send_json(
            200,
            {"type": "user", "username": "emulator", "name": "Emulator", "github_url": None},
        )

    def _fetch_images(self, schema, payload: dict) -> tuple[dict[str, bytes], str | None]:
        with self.lock:
            local = {self._file_url(fid): f["data"] for fid, f in self.files.items()}
        fetched = {}
        for name in schema.image_inputs:
            if payload.get(name) is None:
                continue
            data = fetch_like_a_runner(payload[name], local)
            if data is None:
                return fetched, name
            fetched[name] = data
        return fetched, None

    def _file_url(self, file_id: str) -> str:
        return f"{self.api_url}/files/{file_id}"

    def _file_object(self, file_id: str, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": file_id,
            "name": item["name"],
            "content_type": item["content_type"],
            "size": len(item["data"]),
            "etag": hashlib.md5(item["data"]).hexdigest(),  # noqa: S324 - an etag, not security
            "checksums": {
                "sha256": hashlib.sha256(item["data"]).hexdigest(),
                "md5": hashlib.md5(item["data"]).hexdigest(),  # noqa: S324
            },
            "metadata": {},
            "created_at": item["created_at"],
            "expires_at": item["expires_at"],
            "urls": {"get": self._file_url(file_id)},
        }

    def _upload(self, handler: _Handler, raw: bytes) -> None:
        """POST /v1/files: multipart with the bytes in the `content` part (its filename and
        content type in the part's headers, as the official clients send them)."""
        self.bump("uploads_received")
        if not self._authorised(handler):
            return
        content_type = handler.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return handler.send_json(400, {"detail": "Expected multipart/form-data", "status": 400})
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        part = next(
            (
                p
                for p in message.iter_parts()
                if p.get_param("name", header="content-disposition") == "content"
            ),
            None,
        )
        if part is None:
            return handler.send_json(
                422,
                {
                    "detail": "- content: content is required\n",
                    "status": 422,
                    "title": "Input validation failed",
                },
            )
        data = part.get_payload(decode=True) or b""
        if len(data) > 100 * 1024 * 1024:
            return handler.send_json(413, {"detail": "Files must be less than 100MB in size"})
        file_id = f"{next(self._file_ids):04d}{secrets.token_hex(8)}"
        now = time.time()
        item = {
            "data": data,
            "name": part.get_filename() or "file",
            "content_type": part.get_content_type() or "application/octet-stream",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now)),
            # "Files expire after 24 hours."
            "expires_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now + 86400)),
        }
        with self.lock:
            self.files[file_id] = item
        self.bump("uploads")
        handler.send_json(201, self._file_object(file_id, item))

    # --- payloads -----------------------------------------------------------------------
    def prediction(self, record: Record, *, poll: bool) -> dict[str, Any]:
        phase, value = self.phase(record, poll=poll)
        status, logs, output, error = "starting", "", None, None
        if phase == "running":
            status = "processing"
            logs = "\n".join(f"{min(99, i * 25)}%|{'#' * i}| {i}/4" for i in range(1, value + 1))
        elif phase == "cancelled":
            status = "canceled"
        elif phase == "completed":
            if record.error is not None:
                status, error = "failed", record.error.error or SENSITIVE
            else:
                status, output = "succeeded", self.file_url(record.id)
                logs = "100%|####| 4/4"
        base = f"{self.api_url}/predictions/{record.id}"
        return {
            "id": record.id,
            "model": record.app,
            "version": record.endpoint
            if ":" not in record.endpoint
            else record.endpoint.split(":")[1],
            "input": record.input,
            "logs": logs,
            "output": output,
            "data_removed": False,
            "error": error,
            "status": status,
            "source": "api",
            "created_at": record.created_at,
            "started_at": record.created_at if status != "starting" else None,
            "completed_at": record.created_at
            if status in ("succeeded", "failed", "canceled")
            else None,
            "webhook": record.webhook,
            "webhook_events_filter": getattr(record, "events", []),
            "urls": {
                "get": base,
                "cancel": f"{base}/cancel",
                "stream": f"{base}/stream",
                "web": f"https://replicate.com/p/{record.id}",
            },
            "metrics": {"predict_time": 1.25} if status == "succeeded" else {},
        }

    def webhook_payload(self, record: Record) -> dict[str, Any]:
        return self.prediction(record, poll=False)

    def webhook_headers(self, record: Record, body: bytes) -> dict[str, str]:
        message_id = f"msg_{record.id}"
        timestamp = str(int(time.time()))
        key = base64.b64decode(self.webhook_secret.split("_", 1)[1])
        signed = f"{message_id}.{timestamp}.".encode() + body
        signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return {
            "webhook-id": message_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": f"v1,{signature}",
        }


def _list_entry(prediction: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in prediction.items() if k not in ("webhook", "webhook_events_filter", "logs")
    }


def _invalid(problems: list[strict.Violation]) -> dict[str, Any]:
    """Replicate's 422 for input that breaks the model's schema."""
    kinds = {"missing": "required", "extra_forbidden": "additional_property_not_allowed"}
    fields = []
    for v in problems:
        name = ".".join(v.loc)
        if v.kind == "missing":
            fields.append(
                {"type": "required", "field": "input", "description": f"{name} is required"}
            )
        elif v.kind == "extra_forbidden":
            fields.append(
                {
                    "type": kinds[v.kind],
                    "field": "",
                    "description": f"Additional property {name} is not allowed",
                }
            )
        else:
            fields.append(
                {"type": v.kind, "field": f"input.{name}", "description": f"{name}: {v.message}"}
            )
    return {
        "detail": "".join(f"- {f['field'] or 'input'}: {f['description']}\n" for f in fields),
        "status": 422,
        "title": "Input validation failed",
        "invalid_fields": fields,
    }
