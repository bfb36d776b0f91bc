"""SIGKILL the worker while it processes a media item (probe + thumbnails/waveform).

The killed task's message stays unacked in Redis until the visibility timeout (hours) and
requeue_stuck only looks at items minutes old, so without the worker_ready recovery the
item would sit in "processing" long past this test's deadline. The slow step is real: a
three-hour audio recording (a long podcast), whose waveform takes seconds to compute.
"""

from __future__ import annotations

import math
from fractions import Fraction

import av
import pytest

from media_library import services
from media_library.models import MediaItem
from tests.harness.processes import CeleryWorker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOURS = 3


def long_recording(path, *, minutes: float, rate: int = 44100):
    """An MP3 of `minutes` of tone, made in about a second by muxing copies of the packets
    of two encoded seconds (encoding three hours would take minutes)."""
    with av.open(str(path), "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        resampler = av.AudioResampler(
            format=stream.codec_context.codec.audio_formats[0].name, layout="mono", rate=rate
        )
        packets, pts, per = [], 0, 1152
        for _ in range(2 * rate // per):
            frame = av.AudioFrame(format="s16", layout="mono", samples=per)
            frame.planes[0].update(
                b"".join(
                    int(8000 * math.sin(2 * math.pi * 330 * (pts + k) / rate)).to_bytes(
                        2, "little", signed=True
                    )
                    for k in range(per)
                )
            )
            frame.sample_rate, frame.pts, frame.time_base = rate, pts, Fraction(1, rate)
            pts += per
            for resampled in resampler.resample(frame):
                packets += list(stream.encode(resampled))
        written, total = 0, int(minutes * 60 * rate)
        while written < total:
            for packet in packets:
                packet.pts = packet.dts = None  # the muxer numbers the copies in order
                out.mux(packet)
            written += len(packets) * per
    return path


@pytest.fixture
def worker(process_env, tmp_path, celery_worker):
    # This worker must be the only consumer of the media queue: the session's worker
    # (another MEDIA_ROOT) would otherwise take the re-dispatched task. It is paused here
    # and restarted afterwards.
    celery_worker.stop()
    media_root = tmp_path / "media"
    worker = CeleryWorker(
        {**process_env, "MEDIA_ROOT": str(media_root)}, queues="media", tag="media-crash"
    )
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()
        celery_worker.start()


def test_sigkill_while_processing_a_media_item_is_recovered_on_restart(
    worker, user, daphne_server, socket_client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    tab = socket_client(daphne_server.url, user)  # a real tab's socket, counts the pushes
    log_start = worker.log_path.stat().st_size
    source = long_recording(tmp_path / "podcast.mp3", minutes=HOURS * 60)
    item = services.media_create_from_file(
        owner=user, path_or_file=source, title="Podcast episode", source="upload"
    )
    started = f"media {item.pk}: processing started (attempt 1)"

    def picked_up():
        return started in worker.log_path.read_text(errors="replace")[log_start:]

    wait_until(picked_up, timeout=30, what="the worker to start processing the item")
    item.refresh_from_db()
    # Still working when killed: otherwise this test would prove nothing.
    assert item.status == MediaItem.Status.PROCESSING
    worker.kill()
    item.refresh_from_db()
    assert item.status == MediaItem.Status.PROCESSING

    worker.start()  # what a supervisor does; no beat, no requeue_stuck here

    def settled():
        item.refresh_from_db()
        return item.status != MediaItem.Status.PROCESSING

    wait_until(settled, timeout=90, what="the interrupted item to be processed again")
    assert item.status == MediaItem.Status.READY, item.error_message
    assert item.kind == MediaItem.Kind.AUDIO
    assert item.duration_s == pytest.approx(HOURS * 3600, rel=0.01)
    assert item.has_audio and item.audio_codec == "mp3"
    assert item.waveform and item.waveform.storage.exists(item.waveform.name)
    log = worker.log_path.read_text(errors="replace")[log_start:]
    assert f"media {item.pk}: processing started (attempt 2)" in log
    assert f"media {item.pk}: processing started (attempt 3)" not in log

    dom = f'id="media-{item.pk}"'
    tab.wait_for(lambda m: dom in m and 'data-status="ready"' in m, timeout=10)
    # Exactly one "ready" card push, and nothing after it flips the card back.
    ready_pushes = [m for m in tab.messages if dom in m and 'data-status="ready"' in m]
    assert len(ready_pushes) == 1
    assert MediaItem.objects.filter(owner=user).count() == 1
