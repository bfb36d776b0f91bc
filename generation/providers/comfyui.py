"""ComfyUI on your own GPUs: one provider in front of a farm of ComfyUI servers.

ComfyUI's HTTP API as its server.py serves it (read 2026-12-01 in the public ComfyUI
repository's server.py and execution.py):

    POST /prompt {"prompt": <API graph>, "client_id", "prompt_id"}
         -> {"prompt_id", "number", "node_errors"} or 400 {"error": {type, message,
            details, extra_info}, "node_errors": {id: {"errors": [...], "class_type"}}}
         ComfyUI keeps a prompt_id the client chooses (`json_data.get("prompt_id", uuid4())`).
    GET  /queue -> {"queue_running": [[number, prompt_id, prompt, extra, outputs], ...],
                    "queue_pending": [...]}
    GET  /history/<prompt_id> -> {prompt_id: {"prompt", "outputs", "status": {"status_str",
         "completed", "messages": [[event, data], ...]}}}, and `{}` both while the prompt is
         queued or running and for an id the server does not know.
    GET  /view?filename=&subfolder=&type=output -> the file (404 unknown)
    POST /upload/image multipart "image" (+ "overwrite", "subfolder", "type")
         -> {"name", "subfolder", "type"}
    POST /queue {"delete": [prompt_id]}  drops a pending prompt
    POST /interrupt {"prompt_id"}        stops the running one (only if it is that prompt)
    GET  /object_info -> {class_type: {"input": {"required", "optional"}, "output", ...}}
    GET  /system_stats -> {"system": {...}, "devices": [...]}

Why it is shaped the way it is:
- **Prompt ids are ours** (a uuid5 of the client id and the job): a submit whose answer
  was lost is reconciled by looking for that id on every server, never resent blind.
- **The server is stored on the job** (`provider_handle["server"]`): a prompt id means
  something on one server only. Status, result, cancel always go there.
- **Status asks /queue before /history.** ComfyUI moves a prompt from running to history
  under one lock, so "not in the queue, then not in the history" proves the server lost it
  (a restart empties both) — while "history {}" alone means nothing.
- **A server that stops answering** is skipped by new submits and its jobs are re-checked
  on every poll (a retried NETWORK error); once it has been silent COMFYUI_DOWN_AFTER_S
  they fail plainly. Nothing is sent to another server: a prompt that may still be
  running on a GPU must not run twice.
- **Progress** comes from the websocket listener (`manage.py comfyui_listen`) through the
  cache; polling stays the truth, so a dead listener loses detail, never a job.
- **Start images** are kept inline (a data URL, see upload_image) and uploaded by submit to
  the server chosen for the prompt: servers in a farm share no storage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from django.conf import settings
from django.core.cache import cache

from generation import catalog

from . import comfyui_workflow as workflows
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
from .http import Caller, rate_limited

logger = logging.getLogger("generation.providers")

NAME = "comfyui"
PROMPT_NAMESPACE = uuid.UUID("6c1f3f5e-9d2a-4f57-9b64-2f1d7c0c8a11")
UPLOAD_SUBFOLDER = "cutroom"
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".gif")
# Output lists ComfyUI's video nodes fill: SaveVideo / SaveWEBM ("images" with
# "animated"), VideoHelperSuite's VHS_VideoCombine ("gifs").
OUTPUT_KEYS = ("images", "gifs", "videos", "video")
# A server whose last call failed is not offered new work for this long (then re-probed).
SKIP_AFTER_FAILURE_S = 10.0
PROGRESS_TTL_S = 3600
# The sampler's steps are most of the run; model loading, decode and encode the rest, so
# the sampler's last step does not claim the clip is done.
SAMPLER_SHARE = 95.0


def server_urls() -> list[str]:
    """COMFYUI_URLS as a list (a worker's environment gives it as one string)."""
    value = settings.COMFYUI_URLS
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return [u.strip().rstrip("/") for u in items if u and u.strip()]


def prompt_id_for(job_id: int) -> str:
    return str(uuid.uuid5(PROMPT_NAMESPACE, f"{settings.COMFYUI_CLIENT_ID}:job:{job_id}"))


def server_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def progress_key(prompt_id: str) -> str:
    return f"comfyui:progress:{prompt_id}"


def _down_key(url: str) -> str:
    return f"comfyui:down-since:{server_key(url)}"


def _skip_key(url: str) -> str:
    return f"comfyui:skip:{server_key(url)}"


def _object_info_key(url: str) -> str:
    return f"comfyui:object-info:{server_key(url)}"


def _last_error_key(url: str) -> str:
    return f"comfyui:last-error:{server_key(url)}"


def forget_server(url: str) -> None:
    """Drop what this process's cache remembers of a server (its nodes, its silence), as
    an operator does after reinstalling it; the next call asks it afresh."""
    cache.delete_many([_down_key(url), _skip_key(url), _object_info_key(url), _last_error_key(url)])


def display_url(url: str) -> str:
    """The server's URL without a reverse proxy's basic-auth password, for the admin."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{parts.username}:***@{host}{port}").geturl()


def server_memory(url: str) -> dict[str, Any]:
    """What the cache (shared by every worker) knows of a server without asking it:
    `skipped_until` (epoch s; new submits pass it over until then), `silent_since` (epoch
    s; its jobs fail once COMFYUI_DOWN_AFTER_S has passed) and `last_error`
    ({"at", "detail"}: the latest call to it that failed)."""
    found = cache.get_many([_skip_key(url), _down_key(url), _last_error_key(url)])
    skipped = found.get(_skip_key(url))
    return {
        # Older entries held a bare 1 (no expiry known): shown as skipped, time unknown.
        "skipped_until": float(skipped) if skipped and float(skipped) > 1 else None,
        "skipped": bool(skipped),
        "silent_since": found.get(_down_key(url)),
        "last_error": found.get(_last_error_key(url)),
    }


def record_progress(prompt_id: str, percent: float) -> None:
    cache.set(progress_key(prompt_id), float(percent), timeout=PROGRESS_TTL_S)


def sampler_percent(value: Any, maximum: Any) -> float | None:
    try:
        value, maximum = float(value), float(maximum)
    except (TypeError, ValueError):
        return None
    if maximum <= 0:
        return None
    return round(min(SAMPLER_SHARE, SAMPLER_SHARE * max(0.0, value) / maximum), 1)


@dataclass(frozen=True)
class ServerView:
    """What one server said when a submit looked for a place to run."""

    url: str
    load: int | None  # running + pending; None: it did not answer
    problems: tuple[str, ...] = ()
    error: str = ""


class ComfyUIProvider(Provider):
    name = NAME

    def _caller(self) -> Caller:
        # A URL may carry a reverse proxy's basic auth (http://user:pass@gpu1:8188).
        secrets = tuple(urlsplit(u).password or "" for u in server_urls())
        return Caller(NAME, tuple(s for s in secrets if s))

    def is_configured(self) -> tuple[bool, str]:
        return catalog.provider_configured(NAME)

    # --- submit -------------------------------------------------------------------------
    def submit(self, request: SubmitRequest) -> Submission:
        workflow = self._workflow(request)
        server = self.choose_server(workflow)
        graph = self._graph(workflow, request, server)
        prompt_id = prompt_id_for(request.job_id)
        caller = self._caller()
        response = caller.call(
            "POST",
            f"{server}/prompt",
            op="submit",
            job_id=request.job_id,
            json={"prompt": graph, "client_id": settings.COMFYUI_CLIENT_ID, "prompt_id": prompt_id},
            submit=True,
        )
        if response.status_code == 400:
            cache.delete(_object_info_key(server))  # it changed since we looked: look again
            raise refused_prompt(response, caller, server)
        self._raise_for_status(response, server, submit=True)
        body = caller.json(response, submit=True)
        if not isinstance(body, dict) or body.get("prompt_id") != prompt_id:
            raise ProviderError(
                ErrorCode.PROVIDER_ERROR,
                f"ComfyUI at {server} answered without our prompt id",
                request_sent=True,
            )
        return self._submission(server, prompt_id, request.job_id, workflow)

    def reconcile(self, request: SubmitRequest) -> Submission:
        """The prompt id is ours, so an unconfirmed submit is found by asking every server
        for it; a server that does not answer leaves it unproven (retried later)."""
        workflow = self._workflow(request)
        prompt_id = prompt_id_for(request.job_id)
        silent = []
        for server in server_urls():
            try:
                queue = self._queue(server, job_id=request.job_id, op="reconcile")
                if _queue_place(queue, prompt_id) is not None:
                    return self._submission(server, prompt_id, request.job_id, workflow)
                if self._history(server, prompt_id, job_id=request.job_id, op="reconcile"):
                    return self._submission(server, prompt_id, request.job_id, workflow)
            except ProviderError as exc:
                if exc.code not in (ErrorCode.NETWORK, ErrorCode.TIMEOUT):
                    raise
                silent.append(server)
        if silent:
            raise ProviderError(
                ErrorCode.NETWORK,
                f"cannot tell whether ComfyUI took prompt {prompt_id}: "
                f"{', '.join(silent)} did not answer",
                request_sent=True,
            )
        raise unproven_submit(
            f"no ComfyUI server knows prompt {prompt_id}; it is not resent, since a lost "
            "answer and a lost prompt look alike"
        )

    def choose_server(self, workflow: workflows.Workflow) -> str:
        """The answering server with the shortest queue that has every node and model file
        the workflow needs. No server has them: refused, naming what is missing."""
        views = [self._look_at(server, workflow) for server in server_urls()]
        if not views:
            raise ProviderError(ErrorCode.AUTH, "COMFYUI_URLS is empty", permanent=True)
        fit = [v for v in views if v.load is not None and not v.problems]
        if fit:
            return min(fit, key=lambda v: v.load).url
        answered = [v for v in views if v.load is not None]
        if not answered:
            raise ProviderError(
                ErrorCode.NETWORK,
                "no ComfyUI server answered: " + "; ".join(f"{v.url}: {v.error}" for v in views),
            )
        # Every server that answered lacks something: a sentence the creator can act on.
        lacking = sorted({p for v in answered for p in v.problems})
        detail = "; ".join(f"{v.url}: {', '.join(v.problems)}" for v in answered)
        raise ProviderError(
            ErrorCode.INVALID_INPUT,
            f"workflow {workflow.name}: {detail}",
            field_errors={
                "workflow": f"no ComfyUI server can run {workflow.name}: " + "; ".join(lacking)
            },
            permanent=True,
        )

    def _look_at(self, server: str, workflow: workflows.Workflow) -> ServerView:
        if cache.get(_skip_key(server)):
            return ServerView(server, None, error="skipped: failed moments ago")
        try:
            queue = self._queue(server, op="choose")
            info = self.object_info(server)
        except ProviderError as exc:
            return ServerView(server, None, error=exc.detail[:200])
        skip = frozenset(workflow.places.get("start_image", ()))
        problems = workflows.problems_against(workflow.graph, info, skip=skip)
        load = len(queue.get("queue_running") or []) + len(queue.get("queue_pending") or [])
        return ServerView(server, load, tuple(problems))

    def object_info(self, server: str, *, fresh: bool = False) -> dict[str, Any]:
        """The server's node registry, cached COMFYUI_OBJECT_INFO_TTL_S: it is large (every
        node and every model file name) and changes only when the operator installs some."""
        key = _object_info_key(server)
        if not fresh:
            cached = cache.get(key)
            if isinstance(cached, dict):
                return cached
        info = self._get_json(server, "/object_info", op="object_info")
        if not isinstance(info, dict):
            raise ProviderError(ErrorCode.PROVIDER_ERROR, f"{server}/object_info is not an object")
        cache.set(key, info, timeout=max(1, int(settings.COMFYUI_OBJECT_INFO_TTL_S)))
        return info

    def _graph(
        self, workflow: workflows.Workflow, request: SubmitRequest, server: str
    ) -> dict[str, Any]:
        spec = catalog.get(request.model_id)
        params = request.params
        resolution = params.get("resolution") or spec.resolutions[0]
        aspect = params.get("aspect_ratio") or (spec.aspect_ratios or ("16:9",))[0]
        width, height = catalog.dimensions(resolution, aspect)
        duration = params.get("duration") or spec.durations[0]
        values: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt or params.get("negative_prompt") or "",
            "width": workflow.on_grid(width),
            "height": workflow.on_grid(height),
            "length": workflow.frames(duration, spec.fps),
            "fps": float(spec.fps),
        }
        seed = params.get("seed")
        # ComfyUI has no "random" seed: without one the job's id varies it per clip.
        values["seed"] = int(seed) if seed is not None else request.job_id
        if workflow.places.get("start_image"):
            start = request.images.get("start")
            if not start:
                raise ProviderError(
                    ErrorCode.INVALID_INPUT, f"{spec.name} needs a start image", permanent=True
                )
            values["start_image"] = self._upload_to(server, start, job_id=request.job_id)
        return workflow.fill({k: v for k, v in values.items() if k in workflow.places})

    def _upload_to(self, server: str, staged: str, *, job_id: int) -> str:
        content_type, data = _decode_data_url(staged)
        suffix = {"image/png": "png", "image/webp": "webp"}.get(content_type, "jpg")
        # Named by content: a second clip from the same still overwrites it with itself.
        name = f"{hashlib.sha256(data).hexdigest()[:24]}.{suffix}"
        caller = self._caller()
        response = caller.call(
            "POST",
            f"{server}/upload/image",
            op="upload",
            job_id=job_id,
            # Parts without a file name are plain form fields (httpx), as the form of
            # ComfyUI's own upload dialog sends them.
            files={
                "image": (name, data, content_type),
                "overwrite": (None, "true"),
                "type": (None, "input"),
                "subfolder": (None, UPLOAD_SUBFOLDER),
            },
        )
        self._raise_for_status(response, server)
        body = caller.json(response)
        if not isinstance(body, dict) or not body.get("name"):
            raise ProviderError(ErrorCode.PROVIDER_ERROR, f"{server}/upload/image gave no name")
        subfolder = str(body.get("subfolder") or "")
        # LoadImage takes "subfolder/name" for a file below the input folder.
        return f"{subfolder}/{body['name']}" if subfolder else str(body["name"])

    def upload_image(self, image: ImageUpload, *, job_id: int | None = None) -> StagedImage:
        """Kept inline: which server runs the prompt is decided at submit, and the servers
        share no storage, so submit uploads it there (POST /upload/image)."""
        encoded = base64.b64encode(image.data).decode()
        return StagedImage(url=f"data:{image.content_type};base64,{encoded}")

    # --- status / result ----------------------------------------------------------------
    def status(self, submission: Submission) -> StatusReport:
        server, prompt_id = self._where(submission)
        job_id = submission.handle.get("job_id")
        queue = self._checked(server, lambda: self._queue(server, job_id=job_id, op="status"))
        place = _queue_place(queue, prompt_id)
        if place == 0:
            percent = cache.get(progress_key(prompt_id))
            return StatusReport(State.RUNNING, progress=percent)
        if place is not None:
            return StatusReport(State.IN_QUEUE, queue_position=place)
        entry = self._checked(
            server, lambda: self._history(server, prompt_id, job_id=job_id, op="status")
        )
        if not entry:
            # Not queued, not running, not in the history: the server restarted (or its
            # history was cleared) and this prompt is gone. Said plainly, never resent.
            error = ProviderError(
                ErrorCode.PROVIDER_ERROR,
                f"ComfyUI at {server} no longer knows prompt {prompt_id} (restarted or "
                "its history was cleared); the clip was not made",
                permanent=True,
            )
            return StatusReport(State.FAILED, error=error)
        return self._report(server, prompt_id, entry)

    def result(self, submission: Submission) -> ResultInfo:
        server, prompt_id = self._where(submission)
        entry = self._history(
            server, prompt_id, job_id=submission.handle.get("job_id"), op="result"
        )
        report = self._report(server, prompt_id, entry) if entry else None
        if report is None or report.result is None:
            raise ProviderError(
                ErrorCode.PROVIDER_ERROR, f"prompt {prompt_id} has no finished video on {server}"
            )
        return report.result

    def _report(self, server: str, prompt_id: str, entry: dict[str, Any]) -> StatusReport:
        status = entry.get("status") if isinstance(entry.get("status"), dict) else {}
        messages = _messages(status.get("messages"))
        if "execution_interrupted" in messages:
            return StatusReport(State.CANCELLED)
        if status.get("status_str") == "error" or "execution_error" in messages:
            return StatusReport(State.FAILED, error=self._execution_error(messages))
        if not status.get("completed", True):
            # An entry that is not complete yet (ComfyUI writes it as it finishes).
            return StatusReport(State.RUNNING, progress=SAMPLER_SHARE)
        video = _video_output(entry.get("outputs"))
        if video is None:
            error = ProviderError(
                ErrorCode.PROVIDER_ERROR,
                f"prompt {prompt_id} finished on {server} without a video output",
                permanent=True,
            )
            return StatusReport(State.FAILED, error=error)
        query = urlencode(
            {
                "filename": video["filename"],
                "subfolder": video.get("subfolder", ""),
                "type": video.get("type", "output"),
            }
        )
        info = ResultInfo(
            url=f"{server}/view?{query}",
            content_type="video/webm" if video["filename"].endswith(".webm") else "video/mp4",
            file_name=str(video["filename"]).rsplit("/", 1)[-1],
            actual_cost=gpu_cost(messages),
        )
        return StatusReport(State.COMPLETED, progress=100.0, result=info)

    def _execution_error(self, messages: dict[str, dict[str, Any]]) -> ProviderError:
        """The node's exception, in ComfyUI's words, for the creator too: on your own GPUs
        "CUDA out of memory" is what to act on (a shorter clip, a smaller size)."""
        data = messages.get("execution_error") or {}
        node = f"{data.get('node_type') or 'a node'} (node {data.get('node_id') or '?'})"
        text = str(data.get("exception_message") or "execution failed").strip()
        kind = str(data.get("exception_type") or "")
        caller = self._caller()
        detail = caller.redact(f"ComfyUI {node} failed: {kind}: {text}")
        # Its first line only: a Python exception's message can run to a traceback.
        sentence = (text.splitlines() or ["execution failed"])[0].strip()[:300].rstrip(".")
        message = caller.redact(f"ComfyUI could not make this clip: {node} failed: {sentence}.")
        return ProviderError(ErrorCode.PROVIDER_ERROR, detail, permanent=True, message=message)

    # --- cancel -------------------------------------------------------------------------
    def cancel(self, submission: Submission) -> CancelOutcome:
        """Pending: deleted from the queue. Running: interrupted, but only when the running
        prompt is this one (an interrupt stops whatever runs, someone else's clip too), and
        with its id, which newer servers check themselves."""
        server, prompt_id = self._where(submission)
        job_id = submission.handle.get("job_id")
        queue = self._queue(server, job_id=job_id, op="cancel")
        place = _queue_place(queue, prompt_id)
        caller = self._caller()
        if place is not None and place > 0:
            response = caller.call(
                "POST", f"{server}/queue", op="cancel", job_id=job_id, json={"delete": [prompt_id]}
            )
            self._raise_for_status(response, server)
            return CancelOutcome.CANCELLED
        if place == 0:
            response = caller.call(
                "POST",
                f"{server}/interrupt",
                op="cancel",
                job_id=job_id,
                json={"prompt_id": prompt_id},
            )
            self._raise_for_status(response, server)
            return CancelOutcome.REQUESTED
        entry = self._history(server, prompt_id, job_id=job_id, op="cancel")
        if entry and self._report(server, prompt_id, entry).state == State.COMPLETED:
            return CancelOutcome.TOO_LATE
        return CancelOutcome.CANCELLED

    # --- admin --------------------------------------------------------------------------
    def server_health(self) -> list[dict[str, Any]]:
        """Each server's queue and devices (GET /queue, GET /system_stats), for the admin;
        never raises. `memory` is what submits know of it after this check (a failed
        check skips the server for new submits, as any failed call does)."""
        rows = []
        for server in server_urls():
            row: dict[str, Any] = {
                "url": server,
                "ok": False,
                "running": None,
                "pending": None,
                "devices": [],
                "version": "",
                "error": "",
            }
            try:
                queue = self._queue(server, op="health")
                stats = self._get_json(server, "/system_stats", op="health")
                stats = stats if isinstance(stats, dict) else {}
                system = stats.get("system") if isinstance(stats.get("system"), dict) else {}
                row.update(
                    ok=True,
                    running=len(queue.get("queue_running") or []),
                    pending=len(queue.get("queue_pending") or []),
                    devices=[
                        {
                            "name": str(d.get("name", "?")),
                            "vram_total": _bytes(d.get("vram_total")),
                            "vram_free": _bytes(d.get("vram_free")),
                        }
                        for d in (stats.get("devices") or [])
                        if isinstance(d, dict)
                    ],
                    version=str(system.get("comfyui_version", "")),
                )
            except ProviderError as exc:
                row["error"] = exc.detail[:300]
            row["memory"] = server_memory(server)
            rows.append(row)
        return rows

    # --- helpers ------------------------------------------------------------------------
    def _workflow(self, request: SubmitRequest) -> workflows.Workflow:
        try:
            return workflows.load(request.endpoint)
        except workflows.WorkflowError as exc:
            raise ProviderError(ErrorCode.INVALID_INPUT, str(exc), permanent=True) from None

    def _submission(
        self, server: str, prompt_id: str, job_id: int, workflow: workflows.Workflow
    ) -> Submission:
        return Submission(
            request_id=prompt_id,
            handle={
                "server": server,
                "job_id": job_id,
                "workflow": workflow.name,
                "progress_node": workflow.progress_node,
            },
        )

    def _where(self, submission: Submission) -> tuple[str, str]:
        server = str(submission.handle.get("server") or "")
        if not server:
            raise ProviderError(
                ErrorCode.PROVIDER_ERROR, "job has no ComfyUI server recorded", permanent=True
            )
        return server, submission.request_id

    def _checked(self, server: str, call):
        """Run a status call; a server that does not answer is re-checked on the next poll
        until it has been silent COMFYUI_DOWN_AFTER_S, then its job fails plainly."""
        try:
            result = call()
        except ProviderError as exc:
            if exc.code not in (ErrorCode.NETWORK, ErrorCode.TIMEOUT):
                raise
            cache.add(_down_key(server), time.time(), timeout=86400)
            since = cache.get(_down_key(server)) or time.time()
            silent = time.time() - float(since)
            if silent >= float(settings.COMFYUI_DOWN_AFTER_S):
                raise ProviderError(
                    ErrorCode.PROVIDER_ERROR,
                    f"ComfyUI at {server} has not answered for {silent:.0f} s; the clip it "
                    f"was making is lost ({exc.detail[:200]})",
                    permanent=True,
                ) from None
            raise
        cache.delete(_down_key(server))
        return result

    def _queue(self, server: str, *, job_id: int | None = None, op: str) -> dict[str, Any]:
        body = self._get_json(server, "/queue", op=op, job_id=job_id)
        if not isinstance(body, dict):
            raise ProviderError(ErrorCode.PROVIDER_ERROR, f"{server}/queue is not an object")
        return body

    def _history(
        self, server: str, prompt_id: str, *, job_id: int | None = None, op: str
    ) -> dict[str, Any]:
        body = self._get_json(server, f"/history/{prompt_id}", op=op, job_id=job_id)
        if not isinstance(body, dict):
            raise ProviderError(ErrorCode.PROVIDER_ERROR, f"{server}/history is not an object")
        entry = body.get(prompt_id)
        return entry if isinstance(entry, dict) else {}

    def _get_json(self, server: str, path: str, *, op: str, job_id: int | None = None) -> Any:
        caller = self._caller()
        try:
            response = caller.call("GET", f"{server}{path}", op=op, job_id=job_id)
        except ProviderError as exc:
            if exc.code in (ErrorCode.NETWORK, ErrorCode.TIMEOUT):
                # The value is the expiry, so the admin can say until when.
                until = time.time() + SKIP_AFTER_FAILURE_S
                cache.set(_skip_key(server), until, timeout=SKIP_AFTER_FAILURE_S)
            self._remember_error(server, exc)
            raise
        try:
            self._raise_for_status(response, server)
        except ProviderError as exc:
            self._remember_error(server, exc)
            raise
        return caller.json(response)

    def _remember_error(self, server: str, exc: ProviderError) -> None:
        cache.set(
            _last_error_key(server),
            {"at": time.time(), "detail": exc.detail[:300]},
            timeout=PROGRESS_TTL_S * 24,
        )

    def _raise_for_status(self, response: httpx.Response, server: str, *, submit: bool = False):
        code = response.status_code
        if code < 300:
            return
        text = self._caller().redact(f"ComfyUI {server} HTTP {code}: {response.text[:300]}")
        if code in (401, 403):
            raise ProviderError(ErrorCode.AUTH, text)
        if code == 429:
            raise rate_limited(response, text)
        if code == 404:
            raise ProviderError(ErrorCode.PROVIDER_ERROR, text, permanent=True)
        if code in (408, 504):
            raise ProviderError(ErrorCode.TIMEOUT, text, request_sent=submit)
        raise ProviderError(ErrorCode.PROVIDER_ERROR, text, request_sent=submit and code >= 500)


def refused_prompt(response: httpx.Response, caller: Caller, server: str) -> ProviderError:
    """A 400 from POST /prompt: the graph failed ComfyUI's validation. Names the node."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    fields: dict[str, str] = {}
    if error.get("type") == "invalid_prompt" or not body.get("node_errors"):
        fields["workflow"] = str(error.get("message") or "ComfyUI refused the workflow")[:200]
    for node_id, node_error in (body.get("node_errors") or {}).items():
        if not isinstance(node_error, dict):
            continue
        reasons = [
            f"{r.get('message', '')}: {r.get('details', '')}".strip(": ")
            for r in node_error.get("errors") or []
            if isinstance(r, dict)
        ]
        fields[f"node {node_id} ({node_error.get('class_type', '?')})"] = "; ".join(reasons)[:200]
    detail = caller.redact(f"ComfyUI {server} refused the prompt: {str(body)[:1000]}")
    return ProviderError(ErrorCode.INVALID_INPUT, detail, field_errors=fields, permanent=True)


def _decode_data_url(url: str) -> tuple[str, bytes]:
    header, _, payload = url.partition(",")
    if not header.startswith("data:") or ";base64" not in header:
        raise ProviderError(
            ErrorCode.INVALID_INPUT, "the start image is not an inline image", permanent=True
        )
    try:
        return header[5:].split(";", 1)[0] or "image/png", base64.b64decode(payload)
    except (ValueError, binascii.Error):
        raise ProviderError(
            ErrorCode.INVALID_INPUT, "the start image could not be decoded", permanent=True
        ) from None


def _bytes(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _queue_place(queue: dict[str, Any], prompt_id: str) -> int | None:
    """0 when running, N when N prompts run or wait before it, None when not queued."""
    running = queue.get("queue_running") or []
    if any(_item_id(item) == prompt_id for item in running):
        return 0
    pending = sorted(
        (item for item in queue.get("queue_pending") or [] if _item_id(item)),
        key=lambda item: _number(item),
    )
    for index, item in enumerate(pending):
        if _item_id(item) == prompt_id:
            return len(running) + index + 1
    return None


def _item_id(item: Any) -> str:
    return str(item[1]) if isinstance(item, list | tuple) and len(item) > 1 else ""


def _number(item: Any) -> float:
    try:
        return float(item[0])
    except (TypeError, ValueError, IndexError):
        return 0.0


def _messages(raw: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for message in raw if isinstance(raw, list) else []:
        if isinstance(message, list | tuple) and len(message) == 2 and isinstance(message[1], dict):
            found[str(message[0])] = message[1]
    return found


def _video_output(outputs: Any) -> dict[str, Any] | None:
    for node_output in (outputs or {}).values() if isinstance(outputs, dict) else []:
        if not isinstance(node_output, dict):
            continue
        for key in OUTPUT_KEYS:
            for item in node_output.get(key) or []:
                name = str(item.get("filename", "")) if isinstance(item, dict) else ""
                if name.lower().endswith(VIDEO_SUFFIXES):
                    return item
    return None


def execution_seconds(messages: dict[str, dict[str, Any]]) -> float | None:
    """From the history's execution_start to execution_success (ComfyUI's timestamps are
    milliseconds since the epoch)."""
    try:
        start = float(messages["execution_start"]["timestamp"])
        end = float(messages["execution_success"]["timestamp"])
    except (KeyError, TypeError, ValueError):
        return None
    return max(0.0, (end - start) / 1000.0)


def gpu_cost(messages: dict[str, dict[str, Any]]) -> str | None:
    """COMFYUI_GPU_SECOND_USD × execution seconds, for accounting; None when unset."""
    rate = str(settings.COMFYUI_GPU_SECOND_USD or "").strip()
    seconds = execution_seconds(messages)
    if not rate or seconds is None:
        return None
    try:
        amount = Decimal(rate) * Decimal(str(round(seconds, 3)))
    except InvalidOperation:
        logger.warning("COMFYUI_GPU_SECOND_USD is not a number: %r", rate)
        return None
    return str(amount.quantize(Decimal("0.0001")))
