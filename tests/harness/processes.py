"""Real processes for integration and browser tests: a Celery worker and the web server (uvicorn),
both pointed at the pytest-django test database and the test Redis.

Usable from fixtures, from tests that need to SIGKILL and restart a worker, and from
bench scripts. Readiness is awaited by polling a condition with a deadline, never by a
fixed sleep.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / "var" / "test-logs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    condition: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.05,
    what: str = "condition",
):
    """Poll `condition` until it returns a truthy value; raise TimeoutError after `timeout`."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_exc = exc
            value = None
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout}s waiting for {what}"
        + (f" (last error: {last_exc!r})" if last_exc else "")
    )


def database_url_for(settings_dict: dict) -> str:
    """A DATABASE_URL for the database pytest-django created (its NAME is the test name)."""
    engine = settings_dict["ENGINE"]
    name = settings_dict["NAME"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{name}"
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{host}:{port}/{name}"


class ManagedProcess:
    """A subprocess in its own process group with its output in var/test-logs/."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]):
        self.name = name
        self.argv = argv
        self.env = env
        self.proc: subprocess.Popen | None = None
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}.log"

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group (a prefork worker's children too): a crash, not a shutdown."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


def base_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DEBUG": "true",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


class CeleryWorker(ManagedProcess):
    """A real worker consuming both queues, plus beat when asked."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        concurrency: int = 2,
        queues: str = "default,media",
        beat: bool = False,
        tag: str = "",
    ):
        self.node = f"test-{tag or uuid.uuid4().hex[:8]}@%h"
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "project",
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-P",
            "prefork",
            "-l",
            "INFO",
            "-n",
            self.node,
            "--without-gossip",
            "--without-mingle",
        ]
        if beat:
            argv += ["-B", "-s", str(LOG_DIR / f"beat-{uuid.uuid4().hex[:6]}")]
        super().__init__(f"worker-{tag or 'x'}", argv, env)

    def start(self, timeout: float = 60) -> None:
        super().start()
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.kill()  # never leave a half-started worker behind
            raise

    @property
    def broker_url(self) -> str:
        return (
            self.env.get("CELERY_BROKER_URL")
            or self.env.get("REDIS_URL")
            or "redis://127.0.0.1:6379/0"
        )

    def wait_ready(self, timeout: float = 60) -> None:
        from project.health import ping_workers

        hostname = self.node.replace("%h", socket.gethostname())

        def answered():
            if not self.alive():
                raise RuntimeError(f"worker exited:\n{self.log_tail()}")
            # Ask on the worker's own broker, which a test may have set apart.
            return ping_workers(self.broker_url, timeout=0.5, destination=[hostname])

        wait_until(answered, timeout=timeout, what="the Celery worker to answer a ping")

    def restart(self) -> None:
        self.kill()
        self.start()


class WebServer(ManagedProcess):
    """The web process exactly as `make run` and the README start it (uvicorn)."""

    def __init__(self, env: dict[str, str], port: int | None = None):
        # Imported here: importing `project` evaluates Django's settings, which benches
        # configure (DATABASE_URL, ...) only after importing this module.
        from project.web_server import web_server_argv

        self.port = port or free_port()
        argv = web_server_argv(sys.executable, "127.0.0.1", str(self.port))
        super().__init__(f"web-{self.port}", argv, env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        super().start()
        try:
            self._wait_serving(timeout)
        except BaseException:
            self.kill()
            raise

    def _wait_serving(self, timeout: float) -> None:
        def answers():
            if not self.alive():
                raise RuntimeError(f"the web server exited:\n{self.log_tail()}")
            return httpx.get(f"{self.url}/accounts/login/", timeout=1).status_code == 200

        wait_until(answers, timeout=timeout, what="the web server to serve the login page")

    def restart(self) -> None:
        self.stop()
        self.start()


# Older tests and benches name the web server after the server it used to be.
DaphneServer = WebServer
