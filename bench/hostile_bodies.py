"""Memory cost of anonymous oversized multipart POSTs: the web server as shipped (uvicorn
behind project.body_limits) against the baseline, daphne as it was served until now,
measured in the same run on the same machine.

    python bench/hostile_bodies.py [--size-mb 128] [--repeat 3]

For each server: start it, send an anonymous multipart POST of --size-mb to a 404 URL
(declared length) and to the sign-in page (chunked, no length) --repeat times, and
report the growth of the process's peak RSS (VmHWM) and the slowest unrelated GET
during the attack. daphne is the baseline because it is what the README ran until now;
its growth is what one anonymous request could do to a node.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

from pipeline_common import prepare

from tests.harness.processes import ManagedProcess, WebServer, free_port, wait_until
from tests.integration.hostile_bodies import multipart_post, peak_rss_mb


class DaphneBaseline(ManagedProcess):
    def __init__(self, env):
        self.port = free_port()
        argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        super().__init__(f"daphne-baseline-{self.port}", [*argv, "project.asgi:application"], env)


def serving(port: int) -> bool:
    import httpx

    return httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2).status_code == 200


def attack(server, size_mb: int, repeat: int) -> dict:
    """Peak-RSS growth over all the attacks (VmHWM only ever rises, so the growth is the
    worst moment), and the unrelated GET latencies measured while each attack ran."""
    import httpx

    before = peak_rss_mb(server.pid)
    latencies = []
    for path, chunked in (("/no-such-page/", False), ("/accounts/login/", True)):
        for _ in range(repeat):
            done = threading.Event()

            def send(path=path, chunked=chunked, done=done):
                try:
                    multipart_post(server.port, path, size_mb, chunked=chunked, timeout=300)
                finally:
                    done.set()

            thread = threading.Thread(target=send)
            thread.start()
            with httpx.Client(timeout=60) as client:
                while True:  # at least one GET per attack, however quickly it ends
                    started = time.monotonic()
                    client.get(f"http://127.0.0.1:{server.port}/accounts/login/")
                    latencies.append(time.monotonic() - started)
                    if done.is_set():
                        break
            thread.join()
    return {
        "growth_mb": peak_rss_mb(server.pid) - before,
        "median_get_s": statistics.median(latencies),
        "slowest_s": max(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = prepare("hostile_bodies")
    results = {}
    for name, server in (
        ("uvicorn (shipped)", WebServer(env)),
        ("daphne (baseline)", DaphneBaseline(env)),
    ):
        server.start()
        try:
            wait_until(lambda s=server: serving(s.port), timeout=60, what=f"{name} to serve")
            results[name] = attack(server, args.size_mb, args.repeat)
        finally:
            server.stop()
    print(
        f"anonymous multipart POST of {args.size_mb} MB, {args.repeat}x per path (404 URL, chunked sign-in)"
    )
    for name, r in results.items():
        print(
            f"  {name:18s} peak RSS growth {r['growth_mb']:8.1f} MB; unrelated GET during the"
            f" attack: median {r['median_get_s'] * 1000:5.0f} ms, slowest {r['slowest_s'] * 1000:6.0f} ms"
        )
    shipped, base = results["uvicorn (shipped)"], results["daphne (baseline)"]
    ratio = shipped["growth_mb"] / max(base["growth_mb"], 0.1)
    verdict = "met" if shipped["growth_mb"] < 100 else "NOT met"
    print(
        f"  ratio shipped/baseline (growth): {ratio:.3f}; goal shipped growth < 100 MB: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
