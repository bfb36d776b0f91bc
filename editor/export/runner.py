"""Run one ffmpeg export: read `-progress pipe:1` for progress and ETA, honour a cancel
request, and kill an ffmpeg that stops making progress (the watchdog). No Django here:
callers pass callbacks, so the runner is tested against a fake ffmpeg too.

The partial output file is removed on every outcome but success."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

STDERR_TAIL_CHARS = 2000


def ffmpeg_binary() -> str:
    """The system ffmpeg when installed, else the static one inside imageio-ffmpeg."""
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class Progress:
    out_time_s: float
    fraction: float  # 0..1
    eta_s: float | None
    speed: float | None  # x realtime


@dataclass(frozen=True)
class RunResult:
    outcome: Literal["succeeded", "cancelled", "stalled", "failed"]
    returncode: int | None
    message: str  # a sentence for the user ("" on success)
    stderr_tail: str
    elapsed_s: float


def _parse_out_time(block: dict[str, str]) -> float | None:
    for key, scale in (("out_time_us", 1e-6), ("out_time_ms", 1e-6)):
        # ffmpeg's out_time_ms is (historically) microseconds too.
        value = block.get(key)
        if value and value.lstrip("-").isdigit():
            return max(0.0, int(value) * scale)
    value = block.get("out_time")
    if value and ":" in value:
        try:
            h, m, s = value.split(":")
            return max(0.0, int(h) * 3600 + int(m) * 60 + float(s))
        except ValueError:
            return None
    return None


def _stop(proc: subprocess.Popen, grace_s: float = 3.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_ffmpeg(
    args: list[str],
    *,
    output_path: str,
    duration_s: float,
    on_progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    stall_timeout_s: float = 60.0,
    cancel_poll_s: float = 1.0,
    progress_every_s: float = 1.0,
) -> RunResult:
    started = time.monotonic()
    lines: queue.Queue[str | None] = queue.Queue()
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as err:
        proc = subprocess.Popen(  # noqa: S603 - args are built by graph.py, no shell
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=pump, name="ffmpeg-progress", daemon=True)
        reader.start()

        outcome: str | None = None
        block: dict[str, str] = {}
        best = -1.0
        last_advance = started
        last_cancel_check = 0.0
        last_report = 0.0
        try:
            while True:
                try:
                    line = lines.get(timeout=0.2)
                except queue.Empty:
                    line = ""
                now = time.monotonic()
                if line is None:
                    break
                if "=" in line:
                    key, _, value = line.strip().partition("=")
                    block[key] = value
                    if key == "progress":
                        out_s = _parse_out_time(block)
                        if out_s is not None and out_s > best:
                            best, last_advance = out_s, now
                            if on_progress and (
                                value == "end" or now - last_report >= progress_every_s
                            ):
                                last_report = now
                                on_progress(_progress(out_s, duration_s, now - started))
                        block = {}
                if should_cancel and now - last_cancel_check >= cancel_poll_s:
                    last_cancel_check = now
                    if should_cancel():
                        outcome = "cancelled"
                        _stop(proc)
                        break
                if now - last_advance > stall_timeout_s:
                    outcome = "stalled"
                    _stop(proc, grace_s=1.0)
                    break
        except BaseException:
            _stop(proc)
            _remove(output_path)
            raise
        returncode = proc.wait()
        reader.join(timeout=5)
        err.seek(0)
        tail = err.read()[-STDERR_TAIL_CHARS:]
    elapsed = time.monotonic() - started
    if outcome is None:
        produced = os.path.exists(output_path) and os.path.getsize(output_path) > 0
        outcome = "succeeded" if returncode == 0 and produced else "failed"
    if outcome != "succeeded":
        _remove(output_path)
    return RunResult(
        outcome=outcome,
        returncode=returncode,
        message=_message(outcome, returncode, tail, stall_timeout_s),
        stderr_tail=tail,
        elapsed_s=elapsed,
    )


def _progress(out_s: float, duration_s: float, elapsed_s: float) -> Progress:
    fraction = min(1.0, out_s / duration_s) if duration_s > 0 else 0.0
    speed = out_s / elapsed_s if elapsed_s > 0 and out_s > 0 else None
    eta = max(0.0, (duration_s - out_s) / speed) if speed else None
    return Progress(out_time_s=out_s, fraction=fraction, eta_s=eta, speed=speed)


def _message(outcome: str, returncode: int | None, tail: str, stall_timeout_s: float) -> str:
    if outcome == "succeeded":
        return ""
    if outcome == "cancelled":
        return "Export cancelled."
    if outcome == "stalled":
        return (
            f"The export stopped making progress for {stall_timeout_s:.0f} s and was "
            "stopped. Try again; if it keeps happening, one of the clips may be damaged."
        )
    last = next((ln.strip() for ln in reversed(tail.splitlines()) if ln.strip()), "")
    detail = f": {last}" if last else f" (exit code {returncode})"
    return f"ffmpeg could not render the timeline{detail}"[:300]


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
