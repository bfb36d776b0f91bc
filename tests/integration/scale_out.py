"""The deployment the README describes, on one machine: Debian's nginx with the README's
block in front of two web processes, two Celery workers, one (private) Redis and the test
database. Shared by tests/integration/test_scale_out_nginx.py and bench/scale_out.py."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.harness.nginx import NginxProxy
from tests.harness.processes import CeleryWorker, WebServer


@dataclass
class ScaleOutStack:
    nginx: NginxProxy
    webs: list[WebServer]
    workers: list[CeleryWorker]

    @property
    def url(self) -> str:
        return self.nginx.url


@contextlib.contextmanager
def scale_out_stack(
    env: dict[str, str],
    workdir: Path,
    *,
    web_nodes: int = 2,
    workers: int = 2,
    concurrency: int = 1,
) -> Iterator[ScaleOutStack]:
    """`env` must carry REDIS_URL/CELERY_BROKER_URL for a Redis no other worker consumes
    from, so these two workers are the only ones finishing jobs."""
    env = {**env, "TRUSTED_PROXY_HOPS": "1"}  # as the README's nginx block requires
    webs = [WebServer(env) for _ in range(web_nodes)]
    pool = [CeleryWorker(env, concurrency=concurrency, tag=f"scale{i}") for i in range(workers)]
    nginx = NginxProxy(
        upstream_ports=[w.port for w in webs],
        media_root=Path(env["MEDIA_ROOT"]),
        prefix=workdir / "nginx",
    )
    started: list = []
    try:
        for process in [*webs, *pool]:
            process.start()
            started.append(process)
        nginx.start()
        yield ScaleOutStack(nginx, webs, pool)
    finally:
        nginx.stop()
        for process in reversed(started):
            process.stop()
