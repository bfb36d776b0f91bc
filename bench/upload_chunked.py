"""A large upload through the chunked route of a real web server: throughput, the web
process's memory, a dropped connection mid-way, and the stored file's checksum.

    python bench/upload_chunked.py [--size-mb 2048] [--chunk-mb 8]

Starts its own web server (the harness's, as `make run` starts it) on a throw-away
SQLite database and media directory under var/bench/, creates a user and an API token,
and streams a valid WAV of pseudo-random samples, generated on the fly and never held in
memory, through POST /api/uploads + PATCH chunks over real sockets. Halfway through, one
chunk is cut off mid-body (raw socket, half sent, closed); the client asks the server for
its offset (HEAD) and resumes. The last chunk completes the upload (the same validation
as a single-request upload) and the stored file's sha256 is compared with the source's.

Prints: upload throughput; the web process's RSS before, at its peak during the upload
(VmHWM after resetting it, with a 50 ms sampler as a fallback) and after; and the ratio of
the upload's throughput to a baseline measured in the same run: the same bytes written to
local disk (same generator, same fsync per chunk). No worker runs: processing is not timed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import struct
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024


# --- the source: a WAV header, then pseudo-random samples ----------------------------------


class Source:
    """`size` bytes of a valid 16-bit stereo 48 kHz WAV, readable at any offset, produced
    from a 17 MiB random pool (cheap, never the whole file in memory)."""

    def __init__(self, size: int, seed: int = 7):
        import random

        self.size = size
        rng = random.Random(seed)
        self.pool = memoryview(rng.randbytes(17 * MIB))
        data = size - 44
        self.header = (
            b"RIFF"
            + struct.pack("<I", size - 8)
            + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 2, 48000, 48000 * 4, 4, 16)
            + b"data"
            + struct.pack("<I", data)
        )

    def read(self, offset: int, length: int) -> bytes:
        out = bytearray()
        end = min(self.size, offset + length)
        pos = offset
        while pos < end:
            if pos < 44:
                take = min(end, 44) - pos
                out += self.header[pos : pos + take]
            else:
                block, within = divmod(pos - 44, MIB)
                start = (block * 7919 + within) % (16 * MIB)
                take = min(end - pos, MIB - within)
                out += self.pool[start : start + take]
            pos += take
        return bytes(out)

    def sha256(self, step: int = 8 * MIB) -> str:
        digest = hashlib.sha256()
        for offset in range(0, self.size, step):
            digest.update(self.read(offset, step))
        return digest.hexdigest()


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


# --- memory of the web process ---------------------------------------------------------------


def proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Sampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.running = pid, 0, True

    def run(self):
        while self.running:
            try:
                self.peak_kb = max(self.peak_kb, proc_kb(self.pid, "VmRSS"))
            except (OSError, ValueError):
                return
            time.sleep(0.05)


# --- the client: tests/harness/chunked_upload.py (the tests' loop, with the drop) -----------


def upload(base_url: str, token: str, source: Source) -> dict:
    import httpx

    from tests.harness.chunked_upload import upload_in_chunks

    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=auth, timeout=600) as http:
        result = upload_in_chunks(
            http,
            token,
            filename="bench.wav",
            size=source.size,
            content_type="audio/wav",
            read=source.read,
            drop_halfway=True,
        )
    return {
        "session": result.session["id"],
        "elapsed": result.elapsed,
        "dropped": result.dropped,
        "resent_bytes": result.resent_bytes,
        "requests": result.requests,
        "media": result.media,
        "chunk_size": result.session["chunk_size"],
    }


def baseline_disk(source: Source, path: Path, chunk_size: int) -> float:
    """The same bytes from the same generator to local disk, fsynced per chunk."""
    started = time.perf_counter()
    with open(path, "wb") as fh:
        for offset in range(0, source.size, chunk_size):
            fh.write(source.read(offset, chunk_size))
            fh.flush()
            os.fsync(fh.fileno())
    elapsed = time.perf_counter() - started
    path.unlink()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--chunk-mb", type=int, default=8)
    args = parser.parse_args()
    size = args.size_mb * MIB

    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    db_path = bench_dir / "upload_chunked.sqlite3"
    db_path.unlink(missing_ok=True)
    media_root = bench_dir / "media-upload-chunked"
    partial = bench_dir / "partial-upload-chunked"
    for d in (media_root, partial):
        shutil.rmtree(d, ignore_errors=True)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    extra = {
        "DATABASE_URL": f"sqlite:///{db_path}",
        "MEDIA_ROOT": str(media_root),
        "UPLOAD_PARTIAL_DIR": str(partial),
        "UPLOAD_CHUNK_BYTES": str(args.chunk_mb * MIB),
        "MEDIA_MAX_UPLOAD_MB": str(max(2048, args.size_mb + 1)),
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(extra)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from generation.services import api_token_create
    from media_library.models import MediaItem
    from tests.harness import processes

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench-upload", password="x" * 20)  # noqa: S106
    token = api_token_create(user=user, name="bench")[1]

    source = Source(size)
    print(f"source: {args.size_mb} MB WAV, chunks of {args.chunk_mb} MB", flush=True)
    source_sha = source.sha256()

    server = processes.WebServer(processes.base_env(extra["DATABASE_URL"], extra))
    server.start()
    try:
        pid = server.pid
        before_kb = proc_kb(pid, "VmRSS")
        hwm_reset = reset_peak(pid)
        sampler = Sampler(pid)
        sampler.start()
        result = upload(server.url, token, source)
        sampler.running = False
        sampler.join()
        peak_kb = max(sampler.peak_kb, proc_kb(pid, "VmHWM") if hwm_reset else 0)
        time.sleep(1)
        after_kb = proc_kb(pid, "VmRSS")
    finally:
        server.stop()

    item = MediaItem.objects.get(pk=result["media"]["id"])
    stored_sha = sha256_file(item.file.path)
    disk_s = baseline_disk(source, bench_dir / "baseline-upload.bin", result["chunk_size"])
    leftover = [p for p in partial.iterdir()] if partial.exists() else []

    mb = size / MIB
    upload_rate, disk_rate = mb / result["elapsed"], mb / disk_s
    print(f"upload: {mb:.0f} MB in {result['elapsed']:.1f} s = {upload_rate:.0f} MB/s "
          f"({result['requests']} chunk requests, incl. completion)")  # fmt: skip
    print(f"dropped connection mid-way: {result['dropped']}; bytes sent again after the "
          f"resume: {result['resent_bytes'] / MIB:.1f} MB")  # fmt: skip
    print(f"web RSS: before {before_kb / 1024:.0f} MB, peak {peak_kb / 1024:.0f} MB "
          f"(+{(peak_kb - before_kb) / 1024:.0f} MB), after {after_kb / 1024:.0f} MB"
          f"{'' if hwm_reset else ' (peak sampled every 50 ms)'}")  # fmt: skip
    print(f"checksum equal: {stored_sha == source_sha} ({stored_sha[:16]}…); stored "
          f"{item.size_bytes} of {size} bytes; partial files left: {len(leftover)}")  # fmt: skip
    print(f"baseline (same bytes to local disk, fsync per chunk): {disk_rate:.0f} MB/s; "
          f"upload / baseline = {upload_rate / disk_rate:.2f}")  # fmt: skip
    shutil.rmtree(media_root, ignore_errors=True)
    ok = stored_sha == source_sha and result["dropped"] and not leftover
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
