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
import hashlib
import hmac
import time
from typing import Any

from .base import Emulator, Fault, Record, _Handler

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
        if not isinstance(payload, dict) or not str(payload.get("prompt") or "").strip():
            description = "prompt is required"
            return handler.send_json(
                422,
                problem(
                    422,
                    "Input validation failed",
                    f"- input.prompt: {description}",
                    invalid_fields=[
                        {"type": "required", "field": "input.prompt", "description": description}
                    ],
                ),
            )
        if model is None and not body.get("version"):
            return handler.send_json(422, problem(422, "Invalid version", "version is required"))
        record = Record(
            id=self.new_id(),
            app=model or "owner/versioned-model",
            endpoint=str(body.get("version") or model),
            input=payload,
            webhook=body.get("webhook"),
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
                "results": [self.prediction(r, poll=False) for r in page],
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
