"""Structured logs: a failing provider call (against the fal emulator, over a real socket)
logs the job id, the HTTP status and the error code, one line per job transition, the
request id on every line — and never the provider key, even when the provider echoes it."""

from __future__ import annotations

import json
import logging

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from pythonjsonlogger.json import JsonFormatter

from generation.models import GenerationJob, JobStatus
from generation.services import job_create, job_submit
from generation.services.tokens import api_token_create
from project.logging import RequestIdFilter
from tests.emulators.fal_emulator import FalEmulator

pytestmark = pytest.mark.django_db

KEY = "0f8c2f54-5d3e-4b8a-9c41-7a1e2b3c4d5e:9f86d081884c7d659a2feaa0c55ad015"
KEY_SECRET = KEY.split(":")[1]


@pytest.fixture
def fal_with_known_key(settings):
    with FalEmulator(key=KEY) as emulator:
        settings.FAL_QUEUE_URL = emulator.url
        settings.FAL_KEY = KEY
        settings.PROVIDER_HTTP_TIMEOUT_S = 2.0
        settings.GENERATION_COOLDOWN_S = 0
        settings.PUBLIC_BASE_URL = ""
        yield emulator


def json_lines(records) -> list[dict]:
    """Format records as production does (settings.LOGGING's JSON formatter + filter)."""
    spec = dict(django_settings.LOGGING["formatters"]["json"])
    spec.pop("()")
    formatter = JsonFormatter(**spec)
    out = []
    for record in records:
        RequestIdFilter().filter(record)
        out.append(json.loads(formatter.format(record)))
    return out


def lines_for(caplog) -> tuple[list[dict], str]:
    lines = json_lines(caplog.records)
    return lines, "\n".join(json.dumps(line) for line in lines)


def test_failed_submit_logs_job_status_and_no_key(fal_with_known_key, user, caplog, enqueued):
    caplog.set_level(logging.INFO)
    job = job_create(user=user, model_id="hailuo", params={"prompt": "a fox", "duration": 6})
    # The provider's error body quotes the key back: it must not reach the logs.
    fal_with_known_key.fail("submit", "server_error", error=f"upstream refused Key {KEY}")
    job_submit(job_id=job.pk)

    lines, text = lines_for(caplog)
    assert KEY not in text and KEY_SECRET not in text
    calls = [line for line in lines if line.get("op") == "submit"]
    assert len(calls) == 1
    call = calls[0]
    assert call["job_id"] == job.pk
    assert call["status_code"] == 500
    # The call line classifies transport failures only; the taxonomy code of an HTTP error
    # is on the pipeline's line about the same call.
    failed = next(line for line in lines if line["message"] == "submit failed")
    assert failed["job_id"] == job.pk and failed["error_code"] == "provider_error"
    assert call["provider"] == "fal" and isinstance(call["latency_ms"], int)
    assert "request_id" in call
    transitions = [
        (line["from_status"], line["to_status"]) for line in lines if "to_status" in line
    ]
    assert transitions == [("queued", "submitting"), ("submitting", "queued")]
    assert all(line["job_id"] == job.pk for line in lines if "to_status" in line)
    job.refresh_from_db()
    assert KEY_SECRET not in job.provider_detail and "upstream refused" in job.provider_detail


def test_auth_failure_logs_the_failed_transition_without_the_key(
    fal_with_known_key, user, caplog, enqueued
):
    caplog.set_level(logging.INFO)
    job = job_create(user=user, model_id="hailuo", params={"prompt": "a fox", "duration": 6})
    fal_with_known_key.fail("submit", "unauthorized")
    job_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error_code == "auth"
    lines, text = lines_for(caplog)
    assert KEY_SECRET not in text
    call = next(line for line in lines if line.get("op") == "submit")
    assert call["status_code"] == 401 and call["job_id"] == job.pk
    failed = [line for line in lines if line.get("to_status") == "failed"]
    assert len(failed) == 1 and failed[0]["error_code"] == "auth"
    assert failed[0]["job_id"] == job.pk


def test_failing_status_poll_logs_job_and_status(fal_with_known_key, user, caplog, enqueued):
    from generation.services import job_poll

    job = job_create(user=user, model_id="hailuo", params={"prompt": "a fox", "duration": 6})
    job_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.IN_QUEUE
    caplog.set_level(logging.INFO)
    caplog.clear()
    fal_with_known_key.fail("status", "locked", request_id=job.provider_request_id)
    job_poll(job_id=job.pk, seq=job.poll_seq)
    lines, text = lines_for(caplog)
    assert KEY_SECRET not in text
    call = next(line for line in lines if line.get("op") == "status")
    assert call["job_id"] == job.pk and call["status_code"] == 403
    assert [line["to_status"] for line in lines if "to_status" in line] == ["failed"]


def test_request_id_is_on_every_line_of_a_request(user, caplog, enqueued, settings):
    settings.GENERATION_COOLDOWN_S = 0
    caplog.set_level(logging.INFO)
    _, raw = api_token_create(user=user)
    response = Client().post(
        reverse("api:generate_video"),
        {"model": "local", "prompt": "a paper boat", "duration": 4},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        HTTP_X_REQUEST_ID="req-test-42",
    )
    assert response.status_code == 202 and response["X-Request-ID"] == "req-test-42"
    request_lines = [r for r in caplog.records if r.name.startswith("generation")]
    assert request_lines, "job_create logs a line"
    # The filter reads the id while the request is being served (the record keeps it).
    assert {getattr(r, "request_id", None) for r in request_lines} == {"req-test-42"}
    assert GenerationJob.objects.filter(owner=user).count() == 1


def test_production_logs_are_json(settings):
    # The request id first, then secret redaction (tests/unit/test_log_redaction.py).
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["request_id", "redact"]
    spec = settings.LOGGING["formatters"]["json"]
    assert spec["()"].endswith("JsonFormatter") and "request_id" in spec["fmt"]
