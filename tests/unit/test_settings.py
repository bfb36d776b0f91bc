"""Settings load from the environment; production refuses to start without SECRET_KEY."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_check(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_ENV"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_secret_key_stops_with_one_clear_sentence():
    result = run_check({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set in the environment when DEBUG is false." in result.stderr


def test_django_env_production_also_requires_secret_key():
    result = run_check({"DJANGO_ENV": "production"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_with_secret_key_starts():
    result = run_check({"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "example.com"})
    assert result.returncode == 0, result.stderr


def test_dot_env_file_documents_every_knob():
    example = (ROOT / ".env.example").read_text()
    for knob in [
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "DATABASE_URL",
        "REDIS_URL",
        "MEDIA_ROOT",
        "FAL_KEY",
        "FAL_QUEUE_URL",
        "REPLICATE_API_TOKEN",
        "REPLICATE_API_URL",
    ]:
        assert f"{knob}=" in example, knob


def test_dot_env_example_lists_every_comfyui_setting_with_a_comment():
    import re

    names = re.findall(r"^(COMFYUI_\w+) = ", (ROOT / "project" / "settings.py").read_text(), re.M)
    assert len(names) >= 6
    lines = (ROOT / ".env.example").read_text().splitlines()
    for name in names:
        at = next((i for i, line in enumerate(lines) if line.startswith(f"{name}=")), None)
        assert at is not None, f"{name} is missing from .env.example"
        assert lines[at - 1].startswith("#"), f"{name} has no comment above it"


def test_beat_intervals_come_from_settings(settings):
    from project.celery import beat_schedule

    settings.GENERATION_SWEEP_INTERVAL_S = 7.0
    settings.EXPORT_SWEEP_INTERVAL_S = 11.0
    settings.PRICE_REFRESH_INTERVAL_S = 0
    schedule = beat_schedule(settings)
    assert schedule["generation-sweep"]["schedule"] == 7.0
    assert schedule["export-sweep"]["schedule"] == 11.0
    assert "provider-prices" not in schedule  # 0 turns the price refresh off
    settings.PRICE_REFRESH_INTERVAL_S = 3600
    assert beat_schedule(settings)["provider-prices"]["schedule"] == 3600.0


def test_the_running_app_installed_the_schedule():
    from project.celery import app

    assert {"generation-sweep", "media-requeue-stuck", "export-sweep"} <= set(
        app.conf.beat_schedule
    )
