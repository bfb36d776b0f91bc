"""The README's production environment block passes `check --deploy` as written (with
its <placeholders> filled in), and an unfilled provider key placeholder is caught."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FILLED = {
    "SECRET_KEY": "q7-Vx2pLm9sT4wZ8nB1cR6yH3jK5dF0gA-uE7iO2Zx_PqW8e-Lm3Nb5Vc7Xz9",
    "DATABASE_URL": "postgres://cutroom:pw@db.internal:5432/cutroom",
    "FAL_KEY": "0f8c2f54-5d3e-4b8a-9c41-7a1e2b3c4d5e:0123456789abcdef0123456789abcdef",
    "REPLICATE_API_TOKEN": "r8_" + "A1b2C3d4E5" * 3 + "f6G7h8I",
    "METRICS_TOKEN": "metrics-token-for-the-test",
}


def readme_env() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    production = text.split("\n## Production", 1)[1]
    block = re.search(r"```env\n(.*?)```", production, re.S)
    assert block, "README's Production section has an ```env block"
    env = {}
    for line in block.group(1).splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG", "AWS_STORAGE_BUCKET_NAME"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_readme_production_environment_passes_check_deploy():
    env = readme_env()
    assert env["DJANGO_ENV"] == "production"
    placeholders = {k for k, v in env.items() if "<" in v}
    assert placeholders <= set(FILLED), placeholders
    result = check_deploy({**env, **{k: FILLED[k] for k in placeholders}})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_an_unfilled_provider_key_fails_the_check_naming_the_variable():
    env = readme_env()
    filled = {k: FILLED[k] for k, v in env.items() if "<" in v and k != "FAL_KEY"}
    result = check_deploy({**env, **filled})
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "generation.W001" in output and "FAL_KEY is malformed" in output
    assert env["FAL_KEY"] not in output  # the value itself is never printed


def test_the_readme_web_process_is_the_one_make_run_and_the_tests_start():
    from project.web_server import web_server_argv

    text = (ROOT / "README.md").read_text()
    line = next(x for x in text.splitlines() if x.startswith("uvicorn project.asgi:application"))
    readme_args = line.split()[1:]
    shipped = web_server_argv("python", "127.0.0.1", "8001")[3:]  # after "python -m uvicorn"
    assert readme_args == shipped
    # And it never trusts a client-written X-Forwarded-For.
    assert "--no-proxy-headers" in shipped and "--proxy-headers" not in shipped


def _devserver(monkeypatch, tmp_path):
    """scripts/devserver.py as a module, reading a private .env (not the checkout's)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("devserver", ROOT / "scripts" / "devserver.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.delenv("COMFYUI_URLS", raising=False)
    return module


def test_make_run_starts_the_comfyui_listener_only_with_servers(monkeypatch, tmp_path):
    devserver = _devserver(monkeypatch, tmp_path)
    assert devserver.comfyui_listener_argv("python") is None
    (tmp_path / ".env").write_text("COMFYUI_URLS=\n")
    assert devserver.comfyui_listener_argv("python") is None
    (tmp_path / ".env").write_text("COMFYUI_URLS=http://gpu1:8188\n")
    argv = devserver.comfyui_listener_argv("python")
    assert argv == ["python", "manage.py", "comfyui_listen"]
    (tmp_path / ".env").unlink()
    monkeypatch.setenv("COMFYUI_URLS", "http://gpu1:8188,http://gpu2:8188")
    assert devserver.comfyui_listener_argv("python") == argv
    # The README's production processes name the very command make run starts.
    text = (ROOT / "README.md").read_text()
    processes = text.split("\n### Processes", 1)[1].split("```", 2)[1]
    assert "\npython " + " ".join(argv[1:]) + "\n" in processes
    assert "only loses progress detail" in text.split("\n## Production", 1)[1]
