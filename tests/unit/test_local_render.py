"""The offline renderer: output probed with PyAV, determinism, progress, cancellation."""

from __future__ import annotations

import av
import pytest

from generation.providers import get_provider
from generation.providers.base import State, SubmitRequest
from generation.rendering import RenderCancelled, look_for, render_video, settings_for
from generation.rendering.scene import Scene


def probe(path):
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        return {
            "duration": container.duration / av.time_base,
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "fps": float(video.average_rate),
            "frames": sum(1 for _ in container.decode(video=0)),
            "vcodec": video.codec_context.name,
            "acodec": audio.codec_context.name if audio else None,
            "audio_s": float(audio.duration * audio.time_base) if audio else None,
            "rate": audio.codec_context.sample_rate if audio else None,
        }


@pytest.mark.parametrize(
    ("prompt", "duration", "width", "height", "fps", "audio"),
    [
        ("a calm ocean at sunset", 2, 854, 480, 24, True),
        ("neon city street at night in the rain", 1, 360, 640, 30, False),
        ("abstract geometric shapes", 3, 480, 480, 25, True),
        ("snowy mountains", 1.5, 640, 480, 24, True),
    ],
)
def test_output_matches_the_request(tmp_path, prompt, duration, width, height, fps, audio):
    out = tmp_path / "clip.mp4"
    result = render_video(
        out_path=out,
        prompt=prompt,
        seed=11,
        duration_s=duration,
        width=width,
        height=height,
        fps=fps,
        with_audio=audio,
    )
    info = probe(out)
    assert info["vcodec"] == "h264"
    assert (info["width"], info["height"]) == (width, height)
    assert info["fps"] == fps
    assert info["frames"] == round(duration * fps) == result.frames
    assert info["duration"] == pytest.approx(duration, abs=0.03)
    if audio:
        assert info["acodec"] == "aac" and info["rate"] == 48000
        assert info["audio_s"] == pytest.approx(duration, abs=0.03)
    else:
        assert info["acodec"] is None
    assert result.size_bytes == out.stat().st_size > 0


def test_look_follows_prompt_words_and_is_deterministic_per_seed():
    assert look_for("waves on the ocean", 1).scene == "ocean"
    assert look_for("a busy city street", 1).scene == "city"
    assert look_for("forest nature walk", 1).scene == "nature"
    assert look_for("abstract shapes", 1).scene == "abstract"
    night, day = look_for("city at night", 1), look_for("city at noon", 1)
    assert night.night and not day.night and sum(night.sky_top) < sum(day.sky_top)
    assert look_for("fast racing storm", 1).speed > look_for("slow calm lake", 1).speed

    def frame(prompt, seed):
        return Scene(look_for(prompt, seed), 160, 90, 2).draw(1.0).tobytes()

    assert frame("ocean at night", 5) == frame("ocean at night", 5)
    assert frame("ocean at night", 5) != frame("ocean at night", 6)
    assert frame("ocean at night", 5) != frame("city at night", 5)
    scene = Scene(look_for("ocean", 5), 160, 90, 2)
    assert scene.draw(0.0).tobytes() != scene.draw(1.0).tobytes()  # it moves


def test_progress_is_reported_as_frames_are_encoded(tmp_path):
    seen = []
    render_video(
        out_path=tmp_path / "p.mp4",
        prompt="nature",
        seed=1,
        duration_s=2,
        width=160,
        height=90,
        fps=24,
        with_audio=False,
        on_progress=seen.append,
    )
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert seen[-1] == 100.0 and len(seen) > 20


def test_cancel_mid_render_removes_the_partial_file(tmp_path):
    seen = []
    out = tmp_path / "c.mp4"
    with pytest.raises(RenderCancelled):
        render_video(
            out_path=out,
            prompt="city",
            seed=1,
            duration_s=4,
            width=320,
            height=180,
            fps=24,
            with_audio=True,
            on_progress=seen.append,
            should_cancel=lambda: bool(seen) and seen[-1] >= 40,
        )
    assert 40 <= seen[-1] < 100
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "bad", [{"duration_s": 0}, {"duration_s": 61}, {"width": 321}, {"height": 0}, {"fps": 0}]
)
def test_bad_settings_are_refused(tmp_path, bad):
    args = dict(
        out_path=tmp_path / "x.mp4", prompt="x", seed=1, duration_s=1, width=320, height=180, fps=24
    )
    args.update(bad)
    with pytest.raises(ValueError):
        render_video(**args)
    assert not (tmp_path / "x.mp4").exists()


def test_settings_for_a_job():
    assert settings_for(
        {"duration": "6", "resolution": "720p", "aspect_ratio": "9:16", "audio": False, "seed": 9},
        job_id=3,
    ) == {
        "seed": 9,
        "duration_s": 6.0,
        "width": 720,
        "height": 1280,
        "fps": 24,
        "with_audio": False,
    }
    defaults = settings_for({}, job_id=3)
    assert (defaults["width"], defaults["height"], defaults["duration_s"]) == (854, 480, 4.0)
    assert (
        defaults["seed"] == settings_for({}, job_id=3)["seed"] != settings_for({}, job_id=4)["seed"]
    )


def test_local_provider_names_the_request_and_sends_no_task(monkeypatch):
    # The pipeline's submit step enqueues the render (a provider is a lower layer).
    sent = []
    import celery

    monkeypatch.setattr(celery.current_app, "send_task", lambda name, **kw: sent.append((name, kw)))
    provider = get_provider("local")
    submission = provider.submit(
        SubmitRequest(
            job_id=12,
            model_id="local",
            endpoint="generation.tasks.render_local",
            prompt="x",
            params={},
        )
    )
    assert submission.request_id == "local-12"
    assert submission.handle == {"job_id": 12}
    assert sent == []
    assert provider.status(submission).state == State.RUNNING
    assert provider.is_configured() == (True, "")


@pytest.mark.django_db
def test_submitting_a_local_job_enqueues_its_render_once_after_commit(
    user, enqueued, django_capture_on_commit_callbacks
):
    from generation.models import GenerationJob, JobStatus
    from generation.services import job_submit

    job = GenerationJob.objects.create(
        owner=user, model_id="local", provider="local", prompt="x", params={"duration": 1}
    )
    with django_capture_on_commit_callbacks(execute=True):
        job_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.IN_QUEUE and job.provider_request_id == f"local-{job.pk}"
    assert enqueued == [("render_local", (job.pk,), 0)]


@pytest.mark.django_db
def test_a_local_job_waiting_for_a_render_slot_is_cancelled_at_once_and_skipped(
    user, enqueued, django_capture_on_commit_callbacks
):
    from generation.models import GenerationJob, JobStatus
    from generation.services import job_submit
    from generation.services.jobs import job_cancel
    from generation.services.local_render import job_render_local

    job = GenerationJob.objects.create(
        owner=user, model_id="local", provider="local", prompt="x", params={"duration": 1}
    )
    with django_capture_on_commit_callbacks(execute=True):
        job_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.IN_QUEUE
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        job_cancel(job=job)
    job.refresh_from_db()
    # Cancelled in the request itself: no cancel task waits for a worker slot.
    assert job.status == JobStatus.CANCELLED
    assert [name for name, *_ in enqueued if name == "cancel"] == []
    # The render task, when its slot comes, skips it: nothing rendered, still cancelled.
    job_render_local(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.media_item_id is None
