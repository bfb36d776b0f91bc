"""The ffmpeg runner against a fake ffmpeg (a small Python script speaking the -progress
protocol), so cancel, the stall watchdog and failures are exercised deterministically."""

from __future__ import annotations

import os
import sys
import textwrap
import time

import pytest

from editor.export.runner import run_ffmpeg

FAKE = textwrap.dedent(
    """
    import sys, time
    mode, out = sys.argv[1], sys.argv[2]
    with open(out, "wb") as fh:
        fh.write(b"partial")
    step = 0
    while True:
        step += 1
        t = step * 500_000
        if mode == "stall" and step > 2:
            t = 2 * 500_000  # stuck: keeps reporting the same time, like a hung encode
        print(f"frame={step}\\nout_time_us={t}\\nspeed=1x", flush=True)
        if mode in ("ok", "fail") and step >= 4:
            print("progress=end", flush=True)
            if mode == "fail":
                sys.stderr.write("Error while filtering: Invalid argument\\n")
                sys.exit(1)
            sys.exit(0)
        print("progress=continue", flush=True)
        time.sleep(0.05)
    """
)


@pytest.fixture
def fake(tmp_path):
    script = tmp_path / "fake_ffmpeg.py"
    script.write_text(FAKE)
    out = tmp_path / "out.mp4"

    def run(mode, **kwargs):
        return run_ffmpeg(
            [sys.executable, str(script), mode, str(out)],
            output_path=str(out),
            duration_s=2.0,
            **kwargs,
        )

    return run, out


def test_success_reports_progress_and_eta(fake):
    run, out = fake
    seen = []
    result = run("ok", on_progress=seen.append, progress_every_s=0)
    assert result.outcome == "succeeded" and result.message == ""
    assert out.exists()
    assert [round(p.fraction, 2) for p in seen] == [0.25, 0.5, 0.75, 1.0]
    assert seen[0].eta_s is not None and seen[0].eta_s > 0
    assert seen[-1].eta_s == 0


def test_failure_keeps_last_stderr_line_and_removes_partial(fake):
    run, out = fake
    result = run("fail")
    assert result.outcome == "failed"
    assert "Invalid argument" in result.message
    assert not out.exists()


def test_cancel_kills_ffmpeg_and_removes_partial(fake):
    run, out = fake
    asked = time.monotonic() + 0.4
    started = time.monotonic()
    result = run("forever", should_cancel=lambda: time.monotonic() > asked, cancel_poll_s=0.1)
    assert result.outcome == "cancelled"
    assert result.message == "Export cancelled."
    assert time.monotonic() - started < 10
    assert not out.exists()


def test_watchdog_kills_a_stalled_ffmpeg(fake):
    run, out = fake
    result = run("stall", stall_timeout_s=0.8)
    assert result.outcome == "stalled"
    assert "stopped making progress" in result.message
    assert not out.exists()


def test_missing_output_is_a_failure(tmp_path):
    result = run_ffmpeg(
        [sys.executable, "-c", "print('progress=end')"],
        output_path=str(tmp_path / "never.mp4"),
        duration_s=1.0,
    )
    assert result.outcome == "failed"
    assert not os.path.exists(tmp_path / "never.mp4")
