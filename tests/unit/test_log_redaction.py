"""Secrets never reach a log line: `redact_secrets` as a table, the filter on records the
way uvicorn, Django and Celery log them, the LOGGING wiring, and the short lifetime of the
signed download links whose `?sig=` is one of those secrets."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings as django_settings

from project.logging import REDACTED, RedactSecretsFilter, install_redaction, redact_secrets

WEBHOOK_TOKEN = "q7Zk2mV9xR4tLp0sW8yB3nC6dF1gH5jK"
FAL_KEY = "0f8c2f54-5d3e-4b8a-9c41-7a1e2b3c4d5e:9f86d081884c7d659a2feaa0c55ad015"
REPLICATE_TOKEN = "r8_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
SIG = "eyJtIjoxLCJ1IjoyfQ:1tZ9Qx:Kq3vN0pZ8wYxT5rL2sM7uB4nC1dE6fG9hJ"

# (case, logged text, secret that must be gone, text that must stay)
TABLE = [
    (
        "webhook path secret",
        f'127.0.0.1:5000 - "POST /generation/webhooks/fal/{WEBHOOK_TOKEN}/ HTTP/1.1" 200',
        WEBHOOK_TOKEN,
        '"POST /generation/webhooks/fal/[redacted]/ HTTP/1.1" 200',
    ),
    (
        "webhook URL in a provider request (percent-encoded)",
        "POST https://queue.fal.run/fal-ai/x?fal_webhook=https%3A%2F%2Fcut.example%2F"
        f"generation%2Fwebhooks%2Ffal%2F{WEBHOOK_TOKEN}%2F",
        WEBHOOK_TOKEN,
        "https://queue.fal.run/fal-ai/x?fal_webhook=",
    ),
    (
        "webhook URL in a JSON body",
        f'{{"webhook": "https://cut.example/generation/webhooks/replicate/{WEBHOOK_TOKEN}/"}}',
        WEBHOOK_TOKEN,
        '{"webhook": "',
    ),
    (
        "signed download link",
        f'"GET /api/media/7/download?sig={SIG} HTTP/1.1" 200',
        SIG,
        f"/api/media/7/download?sig={REDACTED} HTTP/1.1",
    ),
    (
        "sig after another parameter",
        f"/api/media/7/download?inline=1&sig={SIG}&x=2",
        SIG,
        f"?inline=1&sig={REDACTED}&x=2",
    ),
    ("token=", "GET /thing?token=abc123secret&page=2", "abc123secret", "&page=2"),
    ("access_token=", "GET /cb?access_token=AAAsecretZZZ", "AAAsecretZZZ", "/cb?access_token="),
    (
        "S3 presigned URL",
        "https://b.s3.amazonaws.com/k.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1&X-Amz-Signature=abcdef0123456789",
        "abcdef0123456789",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
    ),
    (
        "S3 credential",
        "X-Amz-Credential=AKIAEXAMPLE%2F20260101",
        "AKIAEXAMPLE",
        "X-Amz-Credential=",
    ),
    (
        "Authorization: Key (fal)",
        f"headers: Authorization: Key {FAL_KEY}",
        FAL_KEY.split(":")[1],
        "Authorization: Key [redacted]",
    ),
    (
        "Authorization: Bearer (Replicate) in a dict",
        f"{{'Authorization': 'Bearer {REPLICATE_TOKEN}', 'Accept': 'application/json'}}",
        REPLICATE_TOKEN,
        "'Accept': 'application/json'",
    ),
    (
        "authorization as JSON",
        '{"authorization": "Token crt_0123456789abcdefXYZ"}',
        "crt_0123456789abcdefXYZ",
        '"authorization": "Token [redacted]',
    ),
    (
        "fal key in a URL",
        f"https://queue.fal.run/fal-ai/x?key={FAL_KEY}",
        FAL_KEY.split(":")[1],
        "https://queue.fal.run/fal-ai/x?key=",
    ),
    (
        "fal key on its own (echoed in an error body)",
        f"upstream refused Key {FAL_KEY} for this app",
        FAL_KEY.split(":")[1],
        "for this app",
    ),
    (
        "Replicate token in a URL path",
        f"https://api.replicate.com/v1/x/{REPLICATE_TOKEN}/y",
        REPLICATE_TOKEN,
        "https://api.replicate.com/v1/x/",
    ),
    (
        "Replicate webhook secret",
        "secret fetched: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "secret fetched:",
    ),
    (
        "our API token",
        "token used: crt_Zx9-k2_mQ81vbnR4tYw0PLaa",
        "Zx9-k2_mQ81vbnR4tYw0PLaa",
        "token used:",
    ),
    (
        "password in a URL",
        "redis://default:hunter2secret@redis.internal:6379/0",
        "hunter2secret",
        "@redis.internal:6379/0",
    ),
    ("session cookie", "Cookie: sessionid=abcd1234efgh; theme=dark", "abcd1234efgh", "theme=dark"),
]


@pytest.mark.parametrize(
    ("text", "secret", "kept"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE]
)
def test_redact_secrets_removes_the_secret_and_keeps_the_rest(text, secret, kept):
    out = redact_secrets(text)
    assert secret not in out
    assert REDACTED in out
    assert kept in out
    assert redact_secrets(out) == out  # idempotent: a record filtered twice is unchanged


@pytest.mark.parametrize(
    "text",
    [
        '127.0.0.1:5000 - "GET /media/12/card/ HTTP/1.1" 200',
        "job 12 moved on during its poll",
        "POST /generation/webhooks/fal/ HTTP/1.1",  # no token segment: nothing to hide
        "submit failed: provider_error (HTTP 500)",
        "the keyboard shortcut was used; tokens: 3",
        '{"status": "IN_PROGRESS", "queue_position": 2}',
        "",
    ],
)
def test_text_without_secrets_is_unchanged(text):
    assert redact_secrets(text) == text


def record(name: str, msg, args=(), **extra) -> logging.LogRecord:
    rec = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_uvicorn_access_record_keeps_its_argument_tuple():
    """uvicorn's access formatter unpacks record.args into five fields: the filter
    redacts each argument in place and keeps the tuple's shape."""
    rec = record(
        "uvicorn.access",
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", f"/generation/webhooks/fal/{WEBHOOK_TOKEN}/", "1.1", 200),
    )
    assert RedactSecretsFilter().filter(rec) is True
    client, method, path, version, status = rec.args
    assert path == "/generation/webhooks/fal/[redacted]/" and status == 200
    assert rec.getMessage() == (
        '127.0.0.1:5000 - "POST /generation/webhooks/fal/[redacted]/ HTTP/1.1" 200'
    )


def test_django_request_record_with_the_request_object_in_extra():
    """django.request logs "Not Found: <path>" with the request object as an extra,
    which the JSON formatter prints with str(): neither may show the token."""

    class FakeRequest:
        def __str__(self):
            return f"<ASGIRequest: POST '/generation/webhooks/fal/{WEBHOOK_TOKEN}/'>"

    rec = record(
        "django.request",
        "Not Found: %s",
        (f"/generation/webhooks/fal/{WEBHOOK_TOKEN}/",),
        request=FakeRequest(),
        status_code=404,
    )
    RedactSecretsFilter().filter(rec)
    assert WEBHOOK_TOKEN not in rec.getMessage()
    assert WEBHOOK_TOKEN not in str(rec.request)
    assert rec.status_code == 404


def test_harmless_objects_in_extra_are_left_alone():
    marker = object()
    rec = record("generation.jobs", "job %s", (3,), thing=marker, job_id=3)
    RedactSecretsFilter().filter(rec)
    assert rec.thing is marker and rec.args == (3,) and rec.job_id == 3


def test_traceback_text_is_redacted():
    try:
        raise RuntimeError(f"GET https://x.example/d?sig={SIG} failed")
    except RuntimeError:
        import sys

        rec = logging.LogRecord(
            "celery", logging.ERROR, __file__, 1, "task failed", (), sys.exc_info()
        )
    RedactSecretsFilter().filter(rec)
    out = logging.Formatter().format(rec)
    assert "task failed" in out and "RuntimeError" in out
    assert SIG not in out


def test_celery_task_succeeded_line_with_dict_args():
    rec = record(
        "celery.app.trace",
        "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s",
        (
            {
                "name": "generation.tasks.finalize",
                "id": "abc",
                "runtime": 0.5,
                "return_value": f"https://x.example/f.mp4?token={WEBHOOK_TOKEN}",
            },
        ),
    )
    RedactSecretsFilter().filter(rec)
    assert WEBHOOK_TOKEN not in rec.getMessage()
    assert "generation.tasks.finalize[abc] succeeded in 0.5s" in rec.getMessage()


def test_install_redaction_covers_a_logger_and_its_own_handlers():
    """What project/celery.py does for Celery's task logger (a handler Celery adds
    outside settings.LOGGING)."""
    stream = io.StringIO()
    logger = logging.getLogger("tests.redaction.celery-like")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        install_redaction(logger)
        install_redaction(logger)  # twice is harmless: one filter each
        assert sum(isinstance(f, RedactSecretsFilter) for f in handler.filters) == 1
        logger.warning("download %s", f"https://x.example/a?sig={SIG}")
    finally:
        logger.removeHandler(handler)
    assert SIG not in stream.getvalue() and "sig=[redacted]" in stream.getvalue()


# --- the wiring in settings.LOGGING --------------------------------------------------------


def test_every_handler_and_every_url_logging_logger_redacts():
    config = django_settings.LOGGING
    assert config["filters"]["redact"]["()"] == "project.logging.RedactSecretsFilter"
    for name, handler in config["handlers"].items():
        assert "redact" in handler.get("filters", []), name
    for name in ("uvicorn.access", "uvicorn.error", "django.request", "django.server"):
        assert "redact" in config["loggers"][name].get("filters", []), name
    # uvicorn's own access handler (from its CLI config) is replaced by ours.
    assert config["loggers"]["uvicorn.access"]["handlers"] == ["console"]


def test_access_line_through_the_configured_logging_is_redacted(caplog):
    """The live logging configuration: a uvicorn access record reaches handlers (caplog's
    included) already redacted, because the filter sits on the logger itself."""
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    logging.getLogger("uvicorn.access").addHandler(caplog.handler)
    try:
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            f"/api/media/7/download?sig={SIG}",
            "1.1",
            200,
        )
    finally:
        logging.getLogger("uvicorn.access").removeHandler(caplog.handler)
    assert caplog.records and SIG not in caplog.text and "sig=[redacted]" in caplog.text


def test_json_formatter_output_is_redacted():
    """A line as production writes it (LOG_JSON): message and extra fields."""
    from pythonjsonlogger.json import JsonFormatter

    spec = dict(django_settings.LOGGING["formatters"]["json"])
    spec.pop("()")
    rec = record(
        "generation.jobs",
        "submitted %s",
        (f"https://cut.example/generation/webhooks/fal/{WEBHOOK_TOKEN}/",),
        webhook_url=f"https://cut.example/generation/webhooks/fal/{WEBHOOK_TOKEN}/",
        request_id="r-1",
    )
    RedactSecretsFilter().filter(rec)
    line = JsonFormatter(**spec).format(rec)
    assert WEBHOOK_TOKEN not in line
    assert json.loads(line)["webhook_url"].endswith("/generation/webhooks/fal/[redacted]/")


# --- signed download links live minutes -------------------------------------------------------


def test_signed_link_lifetime_defaults_to_ten_minutes():
    assert django_settings.MEDIA_SIGNED_URL_MAX_AGE_S == 600


@pytest.mark.django_db
def test_signed_link_expires_after_its_lifetime(user, monkeypatch):
    from django.core import signing as django_signing

    from media_library.models import MediaItem
    from media_library.signing import download_token, item_for_download_token

    item = MediaItem.objects.create(
        owner=user, kind="image", title="x", mime_type="image/png", size_bytes=1
    )
    now = 1_800_000_000.0
    monkeypatch.setattr(django_signing.time, "time", lambda: now)
    token = download_token(item)
    monkeypatch.setattr(django_signing.time, "time", lambda: now + 599)
    assert item_for_download_token(item.pk, token) == item
    monkeypatch.setattr(django_signing.time, "time", lambda: now + 601)
    assert item_for_download_token(item.pk, token) is None
