"""An emulator of fal.ai's queue protocol (queue.fal.run), faithful in paths, status codes
and JSON shapes:

    POST /{endpoint}[?fal_webhook=url]          -> 200 {request_id, status_url, response_url, cancel_url, queue_position}
    GET  /{owner}/{app}/requests/{id}/status    -> IN_QUEUE (+queue_position) | IN_PROGRESS (+logs) | COMPLETED (+error, error_type)
    GET  /{owner}/{app}/requests/{id}           -> {"video": {url, content_type, file_name, file_size}}
    PUT  /{owner}/{app}/requests/{id}/cancel    -> 202 CANCELLATION_REQUESTED | 400 ALREADY_COMPLETED
    GET  /files/{id}/output.mp4                 -> a real MP4

Status, result and cancel answer only under the owner/app prefix (as fal does), so a
client that builds URLs from the full endpoint instead of using the returned ones gets 404.
Point settings.FAL_QUEUE_URL at `emulator.url` and settings.FAL_KEY at `emulator.key`.
"""

from __future__ import annotations

import time
from typing import Any

from .base import Emulator, Fault, Record, _Handler, sample_mp4

LOCKED = (
    "User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing."
)
CONTENT_POLICY_MSG = (
    "The content could not be processed because it contained material flagged by a content checker."
)


class FalEmulator(Emulator):
    name = "fal"

    def __init__(self, *, key: str = "test-fal-key", **options: Any):
        super().__init__(key=key, **options)

    # --- routing ------------------------------------------------------------------------
    def route(
        self, handler: _Handler, method: str, parts: list[str], query: dict, body: Any, raw: bytes
    ) -> None:
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
        if not isinstance(body, dict) or not str(body.get("prompt") or "").strip():
            return handler.send_json(
                422,
                {
                    "detail": [
                        {
                            "loc": ["body", "prompt"],
                            "msg": "field required",
                            "type": "value_error.missing",
                        }
                    ]
                },
            )
        endpoint = "/".join(parts)
        record = Record(
            id=self.new_id(),
            app="/".join(parts[:2]),
            endpoint=endpoint,
            input=body,
            webhook=query.get("fal_webhook"),
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
            return handler.send_json(
                422 if error_type == "content_policy_violation" else 500,
                {"detail": record.error.error or "Request failed", "error_type": error_type},
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
        # fal signs webhooks with ED25519 (verified against its JWKS); the emulator sends
        # the same headers without a verifiable signature.
        return {
            "X-Fal-Webhook-Request-Id": record.id,
            "X-Fal-Webhook-User-Id": "emulator-user",
            "X-Fal-Webhook-Timestamp": str(int(time.time())),
            "X-Fal-Webhook-Signature": "unsigned-emulator",
        }
