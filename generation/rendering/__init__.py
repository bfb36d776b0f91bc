"""The local procedural renderer (the `local` model).

render_video(*, out_path, prompt, seed, duration_s, width, height, fps, with_audio,
             on_progress, should_cancel) -> RenderResult      (raises RenderCancelled)
settings_for(params, *, job_id) -> keyword arguments for render_video from a job's
             normalised params (everything except out_path, prompt and the callbacks)
"""

from __future__ import annotations

import zlib
from typing import Any

from .look import Look, look_for
from .render import RenderCancelled, RenderResult, render_video

__all__ = ["Look", "RenderCancelled", "RenderResult", "look_for", "render_video", "settings_for"]


def settings_for(params: dict[str, Any], *, job_id: int) -> dict[str, Any]:
    from generation import catalog
    from generation.validation import normalize

    spec = catalog.get("local")
    p = normalize("local", params)
    width, height = catalog.dimensions(p["resolution"], p["aspect_ratio"])
    seed = p.get("seed")
    if seed is None:
        # No seed chosen: stable per job, so a retried render draws the same clip.
        seed = zlib.crc32(f"job-{job_id}".encode())
    return {
        "seed": int(seed),
        "duration_s": float(p["duration"]),
        "width": width,
        "height": height,
        "fps": spec.fps,
        "with_audio": bool(p["audio"]),
    }
