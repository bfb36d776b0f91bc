"""The Replicate adapter against the Replicate emulator, over real sockets, fault by fault."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from generation.providers import get_provider
from generation.providers.base import ErrorCode, ProviderError, State, SubmitRequest
from generation.providers.http import fetch_result
from tests.harness.processes import wait_until

MODEL = "replicate-minimax-video-01"


def request(job_id: int = 1, endpoint: str = "minimax/video-01", **extra) -> SubmitRequest:
    params = {"duration": 6, "resolution": "720p", "aspect_ratio": "16:9", "audio": False}
    fields = dict(
        job_id=job_id, model_id=MODEL, endpoint=endpoint, prompt="a city at night", params=params
    )
    fields.update(extra)
    return SubmitRequest(**fields)


@pytest.fixture
def rep(replicate_settings):
    return get_provider("replicate")


def test_lifecycle_starting_processing_succeeded(rep, replicate_settings, tmp_path):
    submission = rep.submit(request())
    record = replicate_settings.records[submission.request_id]
    assert record.app == "minimax/video-01"
    assert record.input == {"prompt": "a city at night", "prompt_optimizer": True}
    states = [rep.status(submission) for _ in range(5)]
    assert [s.state for s in states] == [
        State.IN_QUEUE,
        State.IN_QUEUE,
        State.RUNNING,
        State.RUNNING,
        State.COMPLETED,
    ]
    assert states[2].progress == 25.0 and states[3].progress == 50.0  # parsed from logs
    assert states[4].result is not None and states[4].result.url.endswith(".mp4")
    result = rep.result(submission)
    downloaded = fetch_result(result.url, tmp_path / "v.mp4")
    assert downloaded.size_bytes > 1000
    assert replicate_settings.count("submits_received") == 1


def test_versioned_endpoint_uses_predictions_with_version(rep, replicate_settings):
    submission = rep.submit(request(endpoint="minimax/video-01:abc123"))
    assert replicate_settings.records[submission.request_id].endpoint == "abc123"


def test_webhook_and_events_filter_sent_and_signed_webhook_posted(rep, replicate_settings):
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{server.server_address[1]}/generation/webhooks/replicate/3/"
        submission = rep.submit(request(job_id=3, webhook_url=hook))
        record = replicate_settings.records[submission.request_id]
        assert record.webhook == hook and record.events == ["start", "completed"]
        replicate_settings.complete_now(submission.request_id)
        wait_until(lambda: received, timeout=5, interval=0.02, what="the webhook")
        headers, body = received[0]
        assert json.loads(body)["status"] == "succeeded"
        key = base64.b64decode(replicate_settings.webhook_secret.split("_", 1)[1])
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert headers["webhook-signature"] == f"v1,{expected}"
    finally:
        server.shutdown()


@pytest.mark.parametrize(
    ("kind", "options", "code", "retryable"),
    [
        ("unauthorized", {}, ErrorCode.AUTH, False),
        ("insufficient_credit", {}, ErrorCode.QUOTA, False),
        ("field_error", {}, ErrorCode.INVALID_INPUT, False),
        ("content_policy", {}, ErrorCode.CONTENT_POLICY, False),
        ("rate_limited", {"retry_after": 4}, ErrorCode.RATE_LIMITED, True),
        ("server_error", {}, ErrorCode.PROVIDER_ERROR, True),
        ("unavailable", {}, ErrorCode.PROVIDER_ERROR, True),
        ("malformed_json", {}, ErrorCode.PROVIDER_ERROR, True),
        ("reset", {}, ErrorCode.NETWORK, True),
        ("hang", {"hang_s": 3}, ErrorCode.TIMEOUT, True),
    ],
)
def test_submit_faults_map_to_taxonomy(rep, replicate_settings, kind, options, code, retryable):
    replicate_settings.fail("submit", kind, **options)
    with pytest.raises(ProviderError) as caught:
        rep.submit(request())
    error = caught.value
    assert error.code == code and error.retryable is retryable
    assert replicate_settings.key not in str(error) and replicate_settings.key not in error.detail
    assert replicate_settings.count("submits_received") == 1
    if kind == "rate_limited":
        assert error.retry_after == 4
    if kind == "field_error":
        assert error.field_errors == {"duration": "duration must be one of the following: 5, 10"}
    if kind in ("hang", "malformed_json"):
        assert error.request_sent is True


def test_throttle_detail_gives_retry_after_without_header(rep, replicate_settings, monkeypatch):
    from generation.providers import http as module

    # As if Replicate sent no Retry-After header: the wait comes from the body's sentence.
    monkeypatch.setattr(module, "retry_after_seconds", lambda value: None)
    replicate_settings.fail("submit", "rate_limited", retry_after=9)
    with pytest.raises(ProviderError) as caught:
        rep.submit(request())
    assert caught.value.retry_after == 9.0


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            "The input or output was flagged as sensitive. Please try again with different inputs. (E005)",
            ErrorCode.CONTENT_POLICY,
        ),
        ("Prediction timed out", ErrorCode.TIMEOUT),
        ("CUDA out of memory", ErrorCode.PROVIDER_ERROR),
    ],
)
def test_failed_prediction(rep, replicate_settings, error, code):
    submission = rep.submit(request())
    replicate_settings.fail(
        "status", "completed_error", request_id=submission.request_id, error=error
    )
    report = rep.status(submission)
    assert report.state == State.FAILED and report.error.code == code


def test_cancel(rep, replicate_settings):
    submission = rep.submit(request())
    rep.cancel(submission)
    assert replicate_settings.count("cancels") == 1
    assert rep.status(submission).state == State.CANCELLED


@pytest.mark.parametrize("op", ["status", "cancel"])
@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("unauthorized", ErrorCode.AUTH),
        ("rate_limited", ErrorCode.RATE_LIMITED),
        ("server_error", ErrorCode.PROVIDER_ERROR),
        ("hang", ErrorCode.TIMEOUT),
        ("reset", ErrorCode.NETWORK),
    ],
)
def test_faults_on_later_calls(rep, replicate_settings, op, kind, code):
    submission = rep.submit(request())
    replicate_settings.fail(op, kind, request_id=submission.request_id, hang_s=3)
    with pytest.raises(ProviderError) as caught:
        getattr(rep, op)(submission)
    assert caught.value.code == code


def test_reconcile_finds_the_prediction_an_ambiguous_submit_created(rep, replicate_settings):
    hook = "http://127.0.0.1:1/generation/webhooks/replicate/5/"
    rep.submit(request(job_id=4, webhook_url="http://127.0.0.1:1/generation/webhooks/replicate/4/"))
    replicate_settings.fail("submit", "accept_then_hang", hang_s=3)
    with pytest.raises(ProviderError) as caught:
        rep.submit(request(job_id=5, webhook_url=hook))
    assert caught.value.request_sent and caught.value.code == ErrorCode.TIMEOUT
    found = rep.reconcile(request(job_id=5, webhook_url=hook))
    assert found is not None
    assert replicate_settings.records[found.request_id].webhook == hook
    assert replicate_settings.count("submits_received") == 2  # nothing resent


def test_reconcile_without_webhook_matches_identical_input_and_pages(rep, replicate_settings):
    replicate_settings.list_page_size = 1
    replicate_settings.fail("submit", "accept_then_reset")
    with pytest.raises(ProviderError) as caught:
        rep.submit(request(job_id=6, prompt="lighthouse in a storm"))
    assert caught.value.code == ErrorCode.NETWORK and caught.value.request_sent
    rep.submit(request(job_id=7, prompt="something else"))  # newer, must be skipped
    found = rep.reconcile(request(job_id=6, prompt="lighthouse in a storm"))
    assert found is not None
    assert replicate_settings.records[found.request_id].input["prompt"] == "lighthouse in a storm"
    assert replicate_settings.count("list_calls") == 2


def test_reconcile_without_a_match_fails_plainly(rep, replicate_settings):
    replicate_settings.fail("submit", "reset")  # dropped before the request was recorded
    with pytest.raises(ProviderError):
        rep.submit(request(job_id=8))
    with pytest.raises(ProviderError) as unproven:
        rep.reconcile(request(job_id=8))
    assert unproven.value.permanent and unproven.value.request_sent
    assert replicate_settings.count("submits_accepted") == 0
