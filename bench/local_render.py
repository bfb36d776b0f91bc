"""Local renderer speed: median seconds to render a clip, and the ratio against a baseline
that encodes blank frames of the same size (pure encoder cost) in the same run.

    python bench/local_render.py
"""

import os
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

import av  # noqa: E402
from PIL import Image  # noqa: E402

from generation.rendering import render_video  # noqa: E402

RUNS = 3
CASES = [(4, 854, 480), (4, 1280, 720), (4, 1920, 1080)]


def baseline(path, duration, width, height, fps=24):
    blank = Image.new("RGB", (width, height), (40, 80, 120))
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for i in range(duration * fps):
            frame = av.VideoFrame.from_image(blank).reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def timed(fn):
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


with tempfile.TemporaryDirectory() as tmp:
    for duration, width, height in CASES:
        out = Path(tmp) / "r.mp4"
        render = timed(
            partial(
                render_video,
                out_path=out,
                prompt="a calm ocean at sunset",
                seed=1,
                duration_s=duration,
                width=width,
                height=height,
                fps=24,
                with_audio=True,
            )
        )
        base = timed(partial(baseline, Path(tmp) / "b.mp4", duration, width, height))
        print(
            f"{duration}s {width}x{height} 24fps +audio: render median {render:.2f}s "
            f"({render / duration:.2f}s per video second); blank-frame encode baseline {base:.2f}s; "
            f"ratio {render / base:.2f}x"
        )
