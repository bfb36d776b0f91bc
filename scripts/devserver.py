"""The process manager behind `make run` and `make test`.

    python scripts/devserver.py run             # uvicorn + Celery worker with beat
                                                # (+ comfyui_listen when COMFYUI_URLS is set)
    python scripts/devserver.py exec -- CMD...  # run CMD with a Redis guaranteed

Redis: the configured REDIS_URL if it answers; otherwise a `redis-server` from the PATH
started as our own child on a private port with no persistence (installed from Debian
first when missing and running as root); otherwise one sentence on how to get one.
Ctrl-C stops every process this script started, and nothing else.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PRIVATE_REDIS_PORT = 6399
children: list[subprocess.Popen] = []


def redis_answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1
        ) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def configured(name: str, default: str) -> str:
    if os.environ.get(name):
        return os.environ[name]
    env_file = ROOT / ".env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == name and value.strip():
                return value.strip()
    return default


def start(argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    # Own process group, so Ctrl-C handling is ours and stopping takes the whole tree.
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)
    children.append(proc)
    return proc


def ensure_redis() -> str:
    url = configured("REDIS_URL", "redis://127.0.0.1:6379/0")
    if redis_answers(url):
        return url
    server = shutil.which("redis-server")
    if server is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("No Redis found: installing Debian's redis-server…", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "redis-server"], check=False)
        server = shutil.which("redis-server")
    if server is None:
        sys.exit(
            f"No Redis answers at {url}; install one (Debian: sudo apt-get install redis-server) or set REDIS_URL to a running Redis."
        )
    private = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"
    print(
        f"Redis at {url} does not answer; starting a private redis-server on port {PRIVATE_REDIS_PORT} (no persistence).",
        flush=True,
    )
    start(
        [
            server,
            "--port",
            str(PRIVATE_REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
    )
    deadline = time.monotonic() + 15
    while not redis_answers(private):
        if time.monotonic() > deadline:
            sys.exit("redis-server did not start on the private port.")
        time.sleep(0.1)
    return private


def stop_children() -> None:
    for proc in reversed(children):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 20
    for proc in children:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _interrupt(signum, _frame):
    raise KeyboardInterrupt


def stop_on_signals() -> None:
    """Ctrl-C, a closed terminal or a plain `kill` all stop what we started. Installed
    explicitly: a shell that starts us in the background leaves SIGINT ignored."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)


def comfyui_listener_argv(python: str) -> list[str] | None:
    """`manage.py comfyui_listen` when ComfyUI servers are configured, else None: with no
    servers it would print one line and exit, which `run` reads as a crashed process."""
    if not configured("COMFYUI_URLS", "").strip(" ,"):
        return None
    return [python, "manage.py", "comfyui_listen"]


def run() -> int:
    stop_on_signals()
    env = dict(os.environ, REDIS_URL=ensure_redis())
    python = str(VENV_BIN / "python")
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    credentials = subprocess.run(
        [python, "manage.py", "ensure_demo_user"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    host = configured("HOST", "127.0.0.1")
    port = configured("PORT", "8000")
    # Imported here, not at the top: importing `project` loads the Celery app and with it
    # Django's settings, which must not happen in this process before the environment is set.
    sys.path.insert(0, str(ROOT))
    from project.web_server import web_server_argv

    start(web_server_argv(python, host, port), env)
    (ROOT / "var").mkdir(exist_ok=True)
    start(
        [
            python,
            "-m",
            "celery",
            "-A",
            "project",
            "worker",
            "-B",
            "-Q",
            "default,media",
            "-c",
            "2",
            "-l",
            "INFO",
            "-s",
            str(ROOT / "var" / "celerybeat-schedule"),
        ],
        env,
    )
    listener = comfyui_listener_argv(python)
    if listener:
        start(listener, env)
    print(
        f"\n  Cutroom is starting at  http://{host}:{port}/\n  {credentials}\n  Ctrl-C stops it.\n",
        flush=True,
    )
    try:
        while all(proc.poll() is None for proc in children):
            time.sleep(0.5)
        print("A Cutroom process exited; stopping the rest.", flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nStopping Cutroom…", flush=True)
        return 0
    finally:
        stop_children()


def exec_with_redis(command: list[str]) -> int:
    stop_on_signals()
    env = dict(os.environ, REDIS_URL=ensure_redis_for_tests())
    try:
        return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        stop_children()


def test_redis_db(slot: str) -> int:
    """Tests use their own Redis DB: 9 for `make test` (slot "ci" or none), and for any
    other CUTROOM_TEST_SLOT one of 10-15 picked by the slot's name, so two test runs in
    parallel (a developer's and CI's) never consume each other's Celery tasks."""
    if slot in ("", "ci"):
        return 9
    return 10 + zlib.crc32(slot.encode()) % 6


def ensure_redis_for_tests() -> str:
    """The Redis found (REDIS_URL's DB kept when REDIS_URL is set), else test_redis_db()."""
    wanted = os.environ.get("REDIS_URL")
    url = ensure_redis()
    if wanted:
        return url
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}/{test_redis_db(os.environ.get('CUTROOM_TEST_SLOT', ''))}"


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        sys.exit(run())
    if len(sys.argv) >= 3 and sys.argv[1] == "exec" and sys.argv[2] == "--":
        sys.exit(exec_with_redis(sys.argv[3:]))
    sys.exit(__doc__)
