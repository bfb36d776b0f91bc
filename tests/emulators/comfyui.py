"""A ComfyUI server emulator over real sockets: HTTP and the /ws websocket on one port.

It refuses what a real ComfyUI refuses and answers in its shapes, as read on 2026-12-01
in the public ComfyUI repository (server.py routes, execution.py validate_prompt and
validate_inputs, PromptQueue, the executor's websocket messages) — written here from
those readings, not copied:

- POST /prompt: `{"prompt", "client_id", "prompt_id"?}`; a client's prompt_id is kept.
  A node without class_type or of an unknown class -> 400 `{"error": {"type":
  "invalid_prompt", "message": "Cannot execute because node X does not exist.", "details":
  "Node ID '#n'"}, "node_errors": {}}`; no output node -> "prompt_no_outputs"; input
  errors (required_input_missing, bad_linked_input, return_type_mismatch,
  invalid_input_type, value_smaller_than_min / value_bigger_than_max, value_not_in_list,
  custom_validation_failed for LoadImage's file) -> 400 with "prompt_outputs_failed_
  validation" and `node_errors: {id: {"errors": [...], "dependent_outputs", "class_type"}}`.
  Accepted -> `{"prompt_id", "number", "node_errors": {}}`.
- GET /queue -> `{"queue_running": [[number, id, prompt, extra, outputs]], "queue_pending"}`;
  POST /queue `{"delete": [...]}` / `{"clear": true}`; POST /interrupt (with a prompt_id
  only that prompt is interrupted).
- GET /history/<id> -> `{}` while queued or running and for unknown ids, else `{id:
  {"prompt", "outputs", "status": {"status_str", "completed", "messages"}, "meta"}}`.
- GET /view?filename&subfolder&type -> the file, 404 unknown. POST /upload/image
  multipart `image` (+ overwrite, subfolder, type) -> `{"name", "subfolder", "type"}`.
- GET /object_info[/<class>], GET /system_stats.
- /ws?clientId=: `status` on connect (broadcast); to the prompt's client: execution_start,
  execution_cached, executing {node}, progress {value, max, prompt_id, node}, executed,
  execution_success / execution_error / execution_interrupted, executing {node: null}.

Faults: `remove_node(cls)`, `fail_execution(message)` (execution_error), `restart()` (the
queue and history lost, still answering), `kill()` / `revive()` (stops answering; comes
back empty on the same port), `partition()` / `heal()` (stops answering, keeps its queue
and history, as when the network drops and the GPU carries on), `ws_delay_s` (a slow
websocket; `ws_log` / `sent_at()` say when each message really left), `hold()` / `release()`
(the running prompt waits before it finishes), `steps` / `step_s` (pacing).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import queue as queue_module
import socket
import struct
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .base import sample_mp4

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455
MAX_INT = 0xFFFFFFFFFFFFFFFF
RESOLUTION_MAX = 16384  # nodes.MAX_RESOLUTION

MODEL_FILES = {
    "unet": ["wan2.2_ti2v_5B_fp16.safetensors"],
    "clip": ["umt5_xxl_fp8_e4m3fn_scaled.safetensors", "t5xxl_fp16.safetensors"],
    "vae": ["wan2.2_vae.safetensors"],
    "checkpoints": ["ltx-video-2b-v0.9.5.safetensors"],
}


def _int(default, lo, hi, step=1):
    return ["INT", {"default": default, "min": lo, "max": hi, "step": step}]


def _float(default, lo, hi, step=0.01):
    return ["FLOAT", {"default": default, "min": lo, "max": hi, "step": step}]


def _node(cls, required, optional=None, output=(), *, output_node=False, module="nodes"):
    return {
        "input": {"required": required, "optional": optional or {}},
        "input_order": {"required": list(required), "optional": list(optional or {})},
        "output": list(output),
        "output_is_list": [False] * len(output),
        "output_name": list(output),
        "name": cls,
        "display_name": cls,
        "description": "",
        "python_module": module,
        "category": "",
        "output_node": output_node,
    }


def default_registry() -> dict[str, dict[str, Any]]:
    """The nodes this project's workflows use, with their documented inputs."""
    samplers = [["euler", "euler_ancestral", "uni_pc", "dpmpp_2m"], {}]
    schedulers = [["simple", "normal", "karras", "beta"], {}]
    size = _int(512, 16, RESOLUTION_MAX, 16)
    nodes = [
        _node(
            "UNETLoader",
            {
                "unet_name": [MODEL_FILES["unet"], {}],
                "weight_dtype": [["default", "fp8_e4m3fn", "fp8_e5m2"], {}],
            },
            output=("MODEL",),
        ),
        _node(
            "CLIPLoader",
            {
                "clip_name": [MODEL_FILES["clip"], {}],
                "type": [["stable_diffusion", "sd3", "wan", "ltxv"], {}],
            },
            {"device": [["default", "cpu"], {}]},
            output=("CLIP",),
        ),
        _node("VAELoader", {"vae_name": [MODEL_FILES["vae"], {}]}, output=("VAE",)),
        _node(
            "CheckpointLoaderSimple",
            {"ckpt_name": [MODEL_FILES["checkpoints"], {}]},
            output=("MODEL", "CLIP", "VAE"),
        ),
        _node(
            "ModelSamplingSD3",
            {"model": ["MODEL"], "shift": _float(3.0, 0.0, 100.0)},
            output=("MODEL",),
            module="comfy_extras.nodes_model_advanced",
        ),
        _node(
            "CLIPTextEncode",
            {"text": ["STRING", {"multiline": True}], "clip": ["CLIP"]},
            output=("CONDITIONING",),
        ),
        _node(
            "Wan22ImageToVideoLatent",
            {
                "vae": ["VAE"],
                "width": _int(1280, 32, RESOLUTION_MAX, 32),
                "height": _int(704, 32, RESOLUTION_MAX, 32),
                "length": _int(49, 1, RESOLUTION_MAX, 4),
                "batch_size": _int(1, 1, 4096),
            },
            {"start_image": ["IMAGE"]},
            output=("LATENT",),
            module="comfy_extras.nodes_wan",
        ),
        _node(
            "WanImageToVideo",
            {
                "positive": ["CONDITIONING"],
                "negative": ["CONDITIONING"],
                "vae": ["VAE"],
                "width": size,
                "height": size,
                "length": _int(81, 1, RESOLUTION_MAX, 4),
                "batch_size": _int(1, 1, 4096),
            },
            {"clip_vision_output": ["CLIP_VISION_OUTPUT"], "start_image": ["IMAGE"]},
            output=("CONDITIONING", "CONDITIONING", "LATENT"),
            module="comfy_extras.nodes_wan",
        ),
        _node(
            "EmptyLTXVLatentVideo",
            {
                "width": _int(768, 64, RESOLUTION_MAX, 32),
                "height": _int(512, 64, RESOLUTION_MAX, 32),
                "length": _int(97, 1, RESOLUTION_MAX, 8),
                "batch_size": _int(1, 1, 4096),
            },
            output=("LATENT",),
            module="comfy_extras.nodes_lt",
        ),
        _node(
            "LTXVConditioning",
            {
                "positive": ["CONDITIONING"],
                "negative": ["CONDITIONING"],
                "frame_rate": _float(25.0, 0.0, 1000.0),
            },
            output=("CONDITIONING", "CONDITIONING"),
            module="comfy_extras.nodes_lt",
        ),
        _node(
            "KSampler",
            {
                "model": ["MODEL"],
                "seed": _int(0, 0, MAX_INT),
                "steps": _int(20, 1, 10000),
                "cfg": _float(8.0, 0.0, 100.0),
                "sampler_name": samplers,
                "scheduler": schedulers,
                "positive": ["CONDITIONING"],
                "negative": ["CONDITIONING"],
                "latent_image": ["LATENT"],
                "denoise": _float(1.0, 0.0, 1.0),
            },
            output=("LATENT",),
        ),
        _node("VAEDecode", {"samples": ["LATENT"], "vae": ["VAE"]}, output=("IMAGE",)),
        _node(
            "LoadImage",
            {"image": [[], {"image_upload": True}]},
            output=("IMAGE", "MASK"),
        ),
        _node(
            "CreateVideo",
            {"images": ["IMAGE"], "fps": _float(30.0, 1.0, 120.0, 1.0)},
            {"audio": ["AUDIO"]},
            output=("VIDEO",),
            module="comfy_extras.nodes_video",
        ),
        _node(
            "SaveVideo",
            {
                "video": ["VIDEO"],
                "filename_prefix": ["STRING", {"default": "video/ComfyUI"}],
                # The V3 schema spells combos this way in /object_info.
                "format": ["COMBO", {"options": ["auto", "mp4"]}],
                "codec": ["COMBO", {"options": ["auto", "h264"]}],
            },
            output=(),
            output_node=True,
            module="comfy_extras.nodes_video",
        ),
    ]
    return {n["name"]: n for n in nodes}


def _error(kind, message, details, **extra):
    return {"type": kind, "message": message, "details": details, "extra_info": extra}


class _WsClient:
    """One websocket connection; frames are sent by its own thread so a slow client (or
    `ws_delay_s`) never holds up the executor."""

    def __init__(self, emulator: ComfyUIEmulator, sock: socket.socket, client_id: str):
        self.emulator = emulator
        self.sock = sock
        self.client_id = client_id
        self.outbox: queue_module.Queue = queue_module.Queue()
        self.closed = threading.Event()
        threading.Thread(target=self._send_loop, daemon=True).start()

    def send(self, message: dict[str, Any]) -> None:
        self.outbox.put((message, json.dumps(message).encode()))

    def _send_loop(self) -> None:
        while not self.closed.is_set():
            try:
                message, payload = self.outbox.get(timeout=0.2)
            except queue_module.Empty:
                continue
            delay = self.emulator.ws_delay_s
            if delay:
                time.sleep(delay)  # the fault: a websocket that lags behind the work
            try:
                self.sock.sendall(_frame(payload))
            except OSError:
                self.close()
                continue
            self.emulator.frame_sent(self.client_id, message)

    def close(self) -> None:
        self.closed.set()
        try:
            # shutdown first: the handler's rfile still holds the socket, so close() alone
            # would keep the connection open and a client would never hear that it ended.
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def _frame(payload: bytes, opcode: int = 0x1) -> bytes:
    header = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        header += bytes([size])
    elif size < 65536:
        header += bytes([126]) + struct.pack("!H", size)
    else:
        header += bytes([127]) + struct.pack("!Q", size)
    return header + payload


def _read_frame(rfile) -> tuple[int, bytes] | None:
    head = rfile.read(2)
    if len(head) < 2:
        return None
    opcode, size = head[0] & 0x0F, head[1] & 0x7F
    if size == 126:
        size = struct.unpack("!H", rfile.read(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", rfile.read(8))[0]
    mask = rfile.read(4) if head[1] & 0x80 else b""
    data = rfile.read(size)
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return opcode, data


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # quiet: kills and resets are faults
        pass


class ComfyUIEmulator:
    def __init__(self, *, steps: int = 4, step_s: float = 0.05, port: int = 0):
        self.steps = steps
        self.step_s = step_s
        self.ws_delay_s = 0.0
        self.registry = default_registry()
        self._port = port
        self._lock = threading.RLock()
        self._work = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._stopping = threading.Event()
        self._numbers = itertools.count(0)
        self._release = threading.Event()
        self._release.set()
        self.reset_state()
        self.counters: dict[str, int] = {}
        self.records: dict[str, dict[str, Any]] = {}  # prompt_id -> graph, every accepted one
        # Every websocket message actually sent: (time.time(), client_id, type, prompt_id).
        self.ws_log: list[tuple[float, str, str, str]] = []
        self._execution_faults: list[str] = []

    # --- lifecycle ----------------------------------------------------------------------
    def reset_state(self) -> None:
        with self._lock:
            self.pending: list[list[Any]] = []
            self.running: list[Any] | None = None
            self.history: dict[str, dict[str, Any]] = {}
            self.inputs: dict[str, bytes] = {}  # "subfolder/name" -> bytes
            self.outputs: dict[tuple[str, str, str], bytes] = {}  # (type, subfolder, name)
            self.clients: dict[str, _WsClient] = {}
            self._interrupt: str | None = None
            self._generation = getattr(self, "_generation", 0) + 1

    def start(self) -> ComfyUIEmulator:
        self._stopping.clear()
        self._serve()
        if getattr(self, "_executor", None) is None or not self._executor.is_alive():
            self._executor = threading.Thread(target=self._execute_loop, daemon=True)
            self._executor.start()
        return self

    def _serve(self) -> None:
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator
        self._server = _Server(("127.0.0.1", self._port), Handler)
        self._port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _unserve(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            for client in list(self.clients.values()):
                client.close()
            self.clients.clear()

    def stop(self) -> None:
        self._stopping.set()
        self._release.set()
        with self._work:
            self._work.notify_all()
        self._unserve()

    def __enter__(self) -> ComfyUIEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # --- faults and steering ------------------------------------------------------------
    def kill(self) -> None:
        """The process dies: nothing answers on the port, and everything in memory is gone
        (queue, running prompt, history) when it comes back with revive()."""
        self.stop()
        self.reset_state()

    def revive(self) -> None:
        self.start()

    def partition(self) -> None:
        """The network to the server drops while its process (and GPU) carries on: nothing
        answers on the port and websockets are cut, but the queue, the running prompt and
        the history are kept; heal() serves the same state again on the same port."""
        self._unserve()

    def heal(self) -> None:
        self._serve()

    def restart(self) -> None:
        """A restart the clients never saw: still answering, the queue and history gone."""
        with self._work:
            self.reset_state_keep_clients()
            self._work.notify_all()

    def reset_state_keep_clients(self) -> None:
        clients = self.clients
        self.reset_state()
        self.clients = clients

    def forget(self) -> None:
        """Between tests: the queue, history, counters, records and faults start afresh,
        every node is installed again and nothing is held."""
        with self._work:
            self.reset_state_keep_clients()
            self.counters = {}
            self.records = {}
            self.ws_log = []
            self._execution_faults = []
            self.registry = default_registry()
            self.ws_delay_s = 0.0
            self._work.notify_all()
        self.release()

    def remove_node(self, class_type: str) -> None:
        with self._lock:
            self.registry.pop(class_type, None)

    def fail_execution(self, message: str = "CUDA out of memory") -> None:
        """The next prompt to run fails at its sampler with this exception."""
        with self._lock:
            self._execution_faults.append(message)

    def hold(self) -> None:
        """The running prompt (and later ones) wait after their last step until release()."""
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    def frame_sent(self, client_id: str, message: dict[str, Any]) -> None:
        data = message.get("data") if isinstance(message.get("data"), dict) else {}
        with self._lock:
            self.ws_log.append(
                (time.time(), client_id, str(message.get("type")), str(data.get("prompt_id") or ""))
            )

    def sent_at(self, kind: str, prompt_id: str) -> float | None:
        """When the websocket message `kind` about `prompt_id` left the server (None: not yet)."""
        with self._lock:
            return next((t for t, _, k, p in self.ws_log if k == kind and p == prompt_id), None)

    def count(self, name: str) -> int:
        with self._lock:
            return self.counters.get(name, 0)

    def bump(self, name: str) -> None:
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + 1

    def queue_snapshot(self) -> dict[str, list[str]]:
        with self._lock:
            return {
                "running": [self.running[1]] if self.running else [],
                "pending": [item[1] for item in sorted(self.pending, key=lambda i: i[0])],
            }

    # --- validation (execution.py's validate_prompt / validate_inputs) ------------------
    def validate(self, prompt: Any) -> tuple[dict[str, Any] | None, dict[str, Any], list[str]]:
        """(error, node_errors, outputs to execute)."""
        if not isinstance(prompt, dict):
            return _error("invalid_prompt", "Prompt is not an object", ""), {}, []
        with self._lock:
            registry = dict(self.registry)
            input_files = set(self.inputs)
        outputs = []
        for node_id, node in prompt.items():
            if not isinstance(node, dict) or "class_type" not in node:
                message = "Cannot execute because a node is missing the class_type property."
                return _error("invalid_prompt", message, f"Node ID '#{node_id}'"), {}, []
            info = registry.get(node["class_type"])
            if info is None:
                message = f"Cannot execute because node {node['class_type']} does not exist."
                return _error("invalid_prompt", message, f"Node ID '#{node_id}'"), {}, []
            if info["output_node"]:
                outputs.append(node_id)
        if not outputs:
            return _error("prompt_no_outputs", "Prompt has no outputs", ""), {}, []
        validated: dict[str, list[dict[str, Any]] | None] = {}
        node_errors: dict[str, Any] = {}
        good = []
        for output in outputs:
            ok = self._validate_node(prompt, output, registry, input_files, validated)
            if ok:
                good.append(output)
                continue
            for node_id, reasons in validated.items():
                if reasons:
                    entry = node_errors.setdefault(
                        node_id,
                        {
                            "errors": reasons,
                            "dependent_outputs": [],
                            "class_type": prompt[node_id]["class_type"],
                        },
                    )
                    entry["dependent_outputs"].append(output)
        if not good:
            details = "\n".join(
                f"{r['message']}: {r['details']}" for e in node_errors.values() for r in e["errors"]
            )
            error = _error(
                "prompt_outputs_failed_validation", "Prompt outputs failed validation", details
            )
            return error, node_errors, []
        return None, node_errors, good

    def _validate_node(self, prompt, node_id, registry, input_files, validated) -> bool:
        if node_id in validated:
            return validated[node_id] == []
        validated[node_id] = []  # a cycle is not re-entered
        node = prompt[node_id]
        info = registry[node["class_type"]]
        inputs = node.get("inputs") if isinstance(node.get("inputs"), dict) else {}
        required = info["input"]["required"]
        optional = info["input"]["optional"]
        errors: list[dict[str, Any]] = []
        upstream_ok = True
        for name, spec in [*required.items(), *optional.items()]:
            if name not in inputs:
                if name in required:
                    errors.append(
                        _error(
                            "required_input_missing",
                            "Required input is missing",
                            name,
                            input_name=name,
                        )
                    )
                continue
            value = inputs[name]
            kind = spec[0]
            if isinstance(value, list):
                if len(value) != 2 or str(value[0]) not in prompt:
                    errors.append(
                        _error(
                            "bad_linked_input",
                            "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                            name,
                            input_name=name,
                        )
                    )
                    continue
                source = prompt[str(value[0])]
                source_info = registry[source["class_type"]]
                try:
                    received = source_info["output"][int(value[1])]
                except (IndexError, TypeError, ValueError):
                    received = None
                if received != kind:
                    errors.append(
                        _error(
                            "return_type_mismatch",
                            "Return type mismatch between linked nodes",
                            f"{name}, {received} != {kind}",
                            input_name=name,
                        )
                    )
                    continue
                if not self._validate_node(prompt, str(value[0]), registry, input_files, validated):
                    upstream_ok = False
                continue
            if node["class_type"] == "LoadImage" and name == "image":
                # LoadImage validates its file itself (VALIDATE_INPUTS), not as a combo.
                if value not in input_files:
                    errors.append(
                        _error(
                            "custom_validation_failed",
                            "Custom validation failed for node",
                            f"image - Invalid image file: {value}",
                            input_name=name,
                        )
                    )
                continue
            try:
                if kind == "INT":
                    value = int(value)
                elif kind == "FLOAT":
                    value = float(value)
                elif kind == "STRING":
                    value = str(value)
            except (TypeError, ValueError) as exc:
                errors.append(
                    _error(
                        "invalid_input_type",
                        f"Failed to convert an input value to a {kind} value",
                        f"{name}, {value}, {exc}",
                        input_name=name,
                    )
                )
                continue
            options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            if kind in ("INT", "FLOAT"):
                if "min" in options and value < options["min"]:
                    errors.append(
                        _error(
                            "value_smaller_than_min",
                            f"Value {value} smaller than min of {options['min']}",
                            name,
                            input_name=name,
                        )
                    )
                    continue
                if "max" in options and value > options["max"]:
                    errors.append(
                        _error(
                            "value_bigger_than_max",
                            f"Value {value} bigger than max of {options['max']}",
                            name,
                            input_name=name,
                        )
                    )
                    continue
            combo = (
                kind
                if isinstance(kind, list)
                else options.get("options")
                if kind == "COMBO"
                else None
            )
            if combo is not None and value not in combo:
                errors.append(
                    _error(
                        "value_not_in_list",
                        "Value not in list",
                        f"{name}: '{value}' not in {combo}",
                        input_name=name,
                    )
                )
        validated[node_id] = errors
        return not errors and upstream_ok

    # --- the queue ----------------------------------------------------------------------
    def accept(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if "prompt" not in body:
            error = _error("no_prompt", "No prompt provided", "No prompt provided")
            return 400, {"error": error, "node_errors": {}}
        prompt = body["prompt"]
        error, node_errors, outputs = self.validate(prompt)
        if error is not None:
            self.bump("prompts_refused")
            return 400, {"error": error, "node_errors": node_errors}
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        with self._work:
            if prompt_id in self.records:
                self.bump("duplicate_prompt_ids")
            number = next(self._numbers)
            extra = {"client_id": body.get("client_id"), "create_time": int(time.time() * 1000)}
            self.pending.append([number, prompt_id, copy.deepcopy(prompt), extra, outputs])
            self.records[prompt_id] = copy.deepcopy(prompt)
            self.bump("prompts_received")
            self._work.notify_all()
        self._broadcast_status()
        return 200, {"prompt_id": prompt_id, "number": number, "node_errors": node_errors}

    def _execute_loop(self) -> None:
        while not self._stopping.is_set():
            with self._work:
                while not self.pending and not self._stopping.is_set():
                    self._work.wait(timeout=0.2)
                if self._stopping.is_set():
                    return
                self.pending.sort(key=lambda item: item[0])
                item = self.pending.pop(0)
                self.running = item
                generation = self._generation
                self._interrupt = None
            self._broadcast_status()
            self._run(item, generation)

    def _still_ours(self, generation: int) -> bool:
        return self._generation == generation and not self._stopping.is_set()

    def _run(self, item: list[Any], generation: int) -> None:
        number, prompt_id, prompt, extra, outputs = item
        client = extra.get("client_id")
        messages: list[list[Any]] = []

        def say(kind: str, data: dict[str, Any], *, keep: bool = False) -> None:
            data = {**data, "prompt_id": prompt_id}
            if keep:
                messages.append([kind, {**data, "timestamp": int(time.time() * 1000)}])
            self._send(client, {"type": kind, "data": data})

        say("execution_start", {"timestamp": int(time.time() * 1000)}, keep=True)
        say("execution_cached", {"nodes": [], "timestamp": int(time.time() * 1000)}, keep=True)
        with self._lock:
            fault = self._execution_faults.pop(0) if self._execution_faults else None
        ui_outputs: dict[str, Any] = {}
        executed: list[str] = []
        outcome = "success"
        failure: dict[str, Any] = {}
        for node_id, node in prompt.items():
            if not self._still_ours(generation):
                return  # restarted or killed: this prompt is gone without a trace
            say("executing", {"node": node_id, "display_node": node_id})
            kind = node["class_type"]
            if kind == "LoadImage":
                name = node["inputs"]["image"]
                with self._lock:
                    data = self.inputs.get(name, b"")
                if not _is_image(data):
                    outcome, failure = (
                        "error",
                        {
                            "node_id": node_id,
                            "node_type": kind,
                            "exception_message": f"cannot identify image file {name!r}",
                            "exception_type": "PIL.UnidentifiedImageError",
                        },
                    )
                    break
            if kind == "KSampler":
                steps = self.steps
                for step in range(1, steps + 1):
                    time.sleep(self.step_s)  # the emulated GPU work, not a test's wait
                    if not self._still_ours(generation):
                        return
                    if self._interrupt == prompt_id:
                        outcome = "interrupted"
                        failure = {"node_id": node_id, "node_type": kind}
                        break
                    say("progress", {"value": step, "max": steps, "node": node_id})
                    if fault and step == max(1, steps // 2):
                        outcome, failure = (
                            "error",
                            {
                                "node_id": node_id,
                                "node_type": kind,
                                "exception_message": fault,
                                "exception_type": "torch.OutOfMemoryError",
                            },
                        )
                        break
                if outcome != "success":
                    break
            if kind == "SaveVideo":
                prefix = str(node["inputs"].get("filename_prefix") or "ComfyUI")
                subfolder, _, stem = prefix.rpartition("/")
                with self._lock:
                    counter = 1 + sum(1 for key in self.outputs if key[1] == subfolder)
                    name = f"{stem}_{counter:05d}_.mp4"
                    self.outputs[("output", subfolder, name)] = sample_mp4()
                result = {
                    "images": [{"filename": name, "subfolder": subfolder, "type": "output"}],
                    "animated": [True],
                }
                ui_outputs[node_id] = result
                say("executed", {"node": node_id, "display_node": node_id, "output": result})
            executed.append(node_id)
        # Wait here while held, so a test can act on a prompt that is surely running.
        while outcome == "success" and not self._release.wait(timeout=0.05):
            if not self._still_ours(generation):
                return
            if self._interrupt == prompt_id:
                outcome, failure = "interrupted", {"node_id": executed[-1], "node_type": "?"}
        if not self._still_ours(generation):
            return
        if outcome == "success":
            say("execution_success", {"timestamp": int(time.time() * 1000)}, keep=True)
        elif outcome == "interrupted":
            say(
                "execution_interrupted",
                {**failure, "executed": executed, "timestamp": int(time.time() * 1000)},
                keep=True,
            )
        else:
            say(
                "execution_error",
                {
                    **failure,
                    "executed": executed,
                    "traceback": [],
                    "current_inputs": {},
                    "current_outputs": {},
                    "timestamp": int(time.time() * 1000),
                },
                keep=True,
            )
        with self._lock:
            if not self._still_ours(generation):
                return
            # One step under one lock, like PromptQueue.task_done: never in neither place.
            self.history[prompt_id] = {
                "prompt": [number, prompt_id, prompt, extra, outputs],
                "outputs": ui_outputs if outcome == "success" else {},
                "status": {
                    "status_str": "success" if outcome == "success" else "error",
                    "completed": outcome == "success",
                    "messages": messages,
                },
                "meta": {},
            }
            self.running = None
            self.bump(f"executions_{outcome}")
        self._send(client, {"type": "executing", "data": {"node": None, "prompt_id": prompt_id}})
        self._broadcast_status()

    def _send(self, client_id: str | None, message: dict[str, Any]) -> None:
        with self._lock:
            client = self.clients.get(client_id or "")
        if client is not None:
            client.send(message)

    def _broadcast_status(self) -> None:
        with self._lock:
            remaining = len(self.pending) + (1 if self.running else 0)
            clients = list(self.clients.values())
        for client in clients:
            client.send(
                {
                    "type": "status",
                    "data": {"status": {"exec_info": {"queue_remaining": remaining}}},
                }
            )

    def queue_body(self) -> dict[str, Any]:
        with self._lock:
            running = [self.running] if self.running else []
            return {
                "queue_running": copy.deepcopy(running),
                "queue_pending": copy.deepcopy(sorted(self.pending, key=lambda i: i[0])),
            }

    def interrupt(self, prompt_id: str | None) -> None:
        with self._lock:
            current = self.running[1] if self.running else None
            if current is None or (prompt_id and prompt_id != current):
                return  # with an id, only that prompt is interrupted (server.py)
            self._interrupt = current
            self.bump("interrupts")

    def delete(self, ids: list[str]) -> None:
        with self._lock:
            before = len(self.pending)
            self.pending = [item for item in self.pending if item[1] not in set(ids)]
            self.counters["deleted"] = self.counters.get("deleted", 0) + before - len(self.pending)


def _is_image(data: bytes) -> bool:
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return False
    return True


class _Handler(BaseHTTPRequestHandler):
    emulator: ComfyUIEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):  # noqa: N802
        emu = self.emulator
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        if path == "/ws":
            return self._websocket(query)
        if path == "/queue":
            return self._json(200, emu.queue_body())
        if path == "/prompt":
            body = emu.queue_body()
            remaining = len(body["queue_running"]) + len(body["queue_pending"])
            return self._json(200, {"exec_info": {"queue_remaining": remaining}})
        if path.startswith("/history/"):
            prompt_id = path.removeprefix("/history/")
            with emu._lock:
                entry = emu.history.get(prompt_id)
            return self._json(200, {prompt_id: entry} if entry else {})
        if path == "/history":
            with emu._lock:
                return self._json(200, copy.deepcopy(emu.history))
        if path == "/object_info":
            with emu._lock:
                registry = copy.deepcopy(emu.registry)
                uploads = sorted(emu.inputs)
            if "LoadImage" in registry:
                registry["LoadImage"]["input"]["required"]["image"][0] = uploads
            return self._json(200, registry)
        if path.startswith("/object_info/"):
            name = path.removeprefix("/object_info/")
            with emu._lock:
                info = emu.registry.get(name)
            return self._json(200, {name: info} if info else {})
        if path == "/system_stats":
            return self._json(
                200,
                {
                    "system": {
                        "os": "posix",
                        "comfyui_version": "0.3.60-emulator",
                        "python_version": "3.11",
                        "embedded_python": False,
                    },
                    "devices": [
                        {
                            "name": "cuda:0 Emulated GPU",
                            "type": "cuda",
                            "index": 0,
                            "vram_total": 24 * 1024**3,
                            "vram_free": 20 * 1024**3,
                        }
                    ],
                },
            )
        if path == "/view":
            key = (
                (query.get("type") or ["output"])[0],
                (query.get("subfolder") or [""])[0],
                (query.get("filename") or [""])[0],
            )
            with emu._lock:
                data = emu.outputs.get(key)
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self._json(404, {"error": "not found"})

    def do_POST(self):  # noqa: N802
        emu = self.emulator
        path = urlsplit(self.path).path
        raw = self._body()
        if path == "/upload/image":
            return self._upload(raw)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._json(400, {"error": "invalid json"})
        if path == "/prompt":
            status, answer = emu.accept(body if isinstance(body, dict) else {})
            return self._json(status, answer)
        if path == "/queue":
            if body.get("clear"):
                with emu._lock:
                    emu.pending = []
            if isinstance(body.get("delete"), list):
                emu.delete([str(i) for i in body["delete"]])
            return self._json(200, {})
        if path == "/interrupt":
            emu.interrupt(body.get("prompt_id") if isinstance(body, dict) else None)
            return self._json(200, {})
        self._json(404, {"error": "not found"})

    def _upload(self, raw: bytes) -> None:
        emu = self.emulator
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return self._json(400, {"error": "multipart/form-data expected"})
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
        )
        fields: dict[str, str] = {}
        image: tuple[str, bytes] | None = None
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name == "image" and part.get_filename():
                image = (part.get_filename(), part.get_payload(decode=True) or b"")
            elif name:
                fields[name] = (part.get_payload(decode=True) or b"").decode()
        if image is None:
            # server.py's image_upload answers a form without "image" with a bare 400.
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        subfolder = fields.get("subfolder", "").strip("/")
        if ".." in subfolder or ".." in image[0] or "/" in image[0]:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        key = f"{subfolder}/{image[0]}" if subfolder else image[0]
        with emu._lock:
            emu.inputs[key] = image[1]
            emu.bump("uploads")
        self._json(
            200, {"name": image[0], "subfolder": subfolder, "type": fields.get("type", "input")}
        )

    def _websocket(self, query: dict[str, list[str]]) -> None:
        emu = self.emulator
        key = self.headers.get("Sec-WebSocket-Key")
        if "websocket" not in (self.headers.get("Upgrade") or "").lower() or not key:
            return self._json(400, {"error": "websocket upgrade expected"})
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        client_id = (query.get("clientId") or [uuid.uuid4().hex])[0]
        client = _WsClient(emu, self.connection, client_id)
        with emu._lock:
            old = emu.clients.get(client_id)
            emu.clients[client_id] = client  # a reconnect with the same id replaces it
        if old is not None:
            old.close()
        body = emu.queue_body()
        remaining = len(body["queue_running"]) + len(body["queue_pending"])
        client.send(
            {
                "type": "status",
                "data": {"status": {"exec_info": {"queue_remaining": remaining}}, "sid": client_id},
            }
        )
        try:
            while not client.closed.is_set():
                frame = _read_frame(self.rfile)
                if frame is None or frame[0] == 0x8:
                    break
                if frame[0] == 0x9:
                    self.connection.sendall(_frame(frame[1], opcode=0xA))
        except OSError:
            pass
        finally:
            client.close()
            with emu._lock:
                if emu.clients.get(client_id) is client:
                    del emu.clients[client_id]
        self.close_connection = True
