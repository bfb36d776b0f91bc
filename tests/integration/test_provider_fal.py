"""The fal adapter against the fal queue emulator, over real sockets, fault by fault."""

from __future__ import annotations

import logging

import pytest

from generation.providers import get_provider
from generation.providers.base import ErrorCode, ProviderError, State, Submission, SubmitRequest
from generation.providers.http import fetch_result
from tests.harness.processes import wait_until

ENDPOINT = "fal-ai/minimax/hailuo-02/standard/text-to-video"


def request(job_id: int = 1, **extra) -> SubmitRequest:
    params = {"duration": 6, "resolution": "768P", "aspect_ratio": "16:9", "audio": False}
    fields = dict(
        job_id=job_id, model_id="hailuo", endpoint=ENDPOINT, prompt="a calm ocean", params=params
    )
    fields.update(extra)
    return SubmitRequest(**fields)


@pytest.fixture
def fal_provider(fal_settings):
    return get_provider("fal")


def poll_until(provider, submission, state, limit=20):
    for _ in range(limit):
        report = provider.status(submission)
        if report.state == state:
            return report
    raise AssertionError(f"never reached {state}")


def test_happy_path_queue_positions_logs_result_and_download(fal_provider, fal_settings, tmp_path):
    submission = fal_provider.submit(request(webhook_url=""))
    record = fal_settings.records[submission.request_id]
    assert record.input == {"prompt": "a calm ocean", "prompt_optimizer": True, "duration": "6"}
    # Status lives under the owner/app prefix, not the full endpoint.
    assert "/fal-ai/minimax/requests/" in submission.handle["status_url"]
    assert ENDPOINT not in submission.handle["status_url"]

    first, second = fal_provider.status(submission), fal_provider.status(submission)
    assert (first.state, second.state) == (State.IN_QUEUE, State.IN_QUEUE)
    assert first.queue_position > second.queue_position
    running = fal_provider.status(submission)
    assert running.state == State.RUNNING and running.logs
    done = poll_until(fal_provider, submission, State.COMPLETED)
    assert done.error is None

    result = fal_provider.result(submission)
    assert result.content_type == "video/mp4" and result.file_size > 1000
    downloaded = fetch_result(result.url, tmp_path / "out.mp4")
    assert downloaded.size_bytes == result.file_size
    import av

    with av.open(str(downloaded.path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    assert fal_settings.count("submits_received") == 1


def test_webhook_param_sent_and_webhook_posted_back(fal_provider, fal_settings):
    received = []
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook_url = f"http://127.0.0.1:{server.server_address[1]}/generation/webhooks/fal/7/?t=abc"
        submission = fal_provider.submit(request(job_id=7, webhook_url=hook_url))
        assert fal_settings.records[submission.request_id].webhook == hook_url
        fal_settings.complete_now(submission.request_id)
        import json

        wait_until(lambda: received, timeout=5, interval=0.02, what="the webhook")
        payload = json.loads(received[0])
        assert payload["request_id"] == submission.request_id and payload["status"] == "OK"
        assert payload["payload"]["video"]["url"].endswith("output.mp4")
    finally:
        server.shutdown()


@pytest.mark.parametrize(
    ("kind", "options", "code", "retryable"),
    [
        ("unauthorized", {}, ErrorCode.AUTH, False),
        ("locked", {}, ErrorCode.QUOTA, False),
        ("field_error", {}, ErrorCode.INVALID_INPUT, False),
        ("content_policy", {}, ErrorCode.CONTENT_POLICY, False),
        ("rate_limited", {"retry_after": 7}, ErrorCode.RATE_LIMITED, True),
        ("server_error", {"error_type": "runner_disconnected"}, ErrorCode.PROVIDER_ERROR, True),
        ("unavailable", {"error_type": "request_timeout"}, ErrorCode.TIMEOUT, True),
        ("malformed_json", {}, ErrorCode.PROVIDER_ERROR, True),
        ("reset", {}, ErrorCode.NETWORK, True),
        ("hang", {"hang_s": 3}, ErrorCode.TIMEOUT, True),
    ],
)
def test_submit_faults_map_to_taxonomy(fal_provider, fal_settings, kind, options, code, retryable):
    fal_settings.fail("submit", kind, **options)
    with pytest.raises(ProviderError) as caught:
        fal_provider.submit(request())
    error = caught.value
    assert error.code == code
    assert error.retryable is retryable
    assert fal_settings.key not in error.detail and fal_settings.key not in str(error)
    assert fal_settings.count("submits_received") == 1
    if kind == "rate_limited":
        assert error.retry_after == 7
    if kind == "field_error":
        assert "duration" in error.field_errors and "duration" in error.user_message
    if kind in ("hang", "malformed_json"):
        # The body was sent: the pipeline must reconcile, not resend.
        assert error.request_sent is True


def test_connection_refused_is_network_and_not_sent(fal_provider, settings):
    settings.FAL_QUEUE_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(ProviderError) as caught:
        fal_provider.submit(request())
    assert caught.value.code == ErrorCode.NETWORK and caught.value.request_sent is False


def test_ambiguous_submit_is_found_in_the_request_listing(fal_provider, fal_settings):
    """fal's request listing (api.fal.ai, expand=payloads) shows the request an
    unanswered submit created: reconcile adopts it instead of failing or resending."""
    fal_settings.fail("submit", "accept_then_hang", hang_s=3)
    with pytest.raises(ProviderError) as caught:
        fal_provider.submit(request())
    assert caught.value.code == ErrorCode.TIMEOUT and caught.value.request_sent
    found = fal_provider.reconcile(request())
    assert found.request_id in fal_settings.records
    assert fal_settings.count("submits_received") == 1
    assert fal_settings.count("request_list_calls") == 1
    # The adopted handle works like a submit's: the status call answers.
    assert fal_provider.status(found).state in (State.IN_QUEUE, State.RUNNING, State.COMPLETED)


def test_reconcile_without_a_matching_request_fails_plainly(fal_provider, fal_settings):
    fal_provider.submit(request(prompt="another prompt entirely"))
    with pytest.raises(ProviderError) as reconciled:
        fal_provider.reconcile(request())
    assert reconciled.value.permanent and reconciled.value.request_sent
    assert fal_settings.count("submits_received") == 1


@pytest.mark.parametrize(
    ("error_type", "code", "state"),
    [
        ("request_timeout", ErrorCode.TIMEOUT, State.FAILED),
        ("runner_disconnected", ErrorCode.PROVIDER_ERROR, State.FAILED),
        ("content_policy_violation", ErrorCode.CONTENT_POLICY, State.FAILED),
        ("client_cancelled", ErrorCode.CANCELLED, State.CANCELLED),
    ],
)
def test_completed_with_error(fal_provider, fal_settings, error_type, code, state):
    submission = fal_provider.submit(request())
    fal_settings.fail(
        "status",
        "completed_error",
        request_id=submission.request_id,
        error_type=error_type,
        error="boom",
    )
    report = fal_provider.status(submission)
    assert report.state == state
    assert report.error.code == code


@pytest.mark.parametrize("op", ["status", "result", "cancel"])
@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("unauthorized", ErrorCode.AUTH),
        ("rate_limited", ErrorCode.RATE_LIMITED),
        ("server_error", ErrorCode.PROVIDER_ERROR),
        ("hang", ErrorCode.TIMEOUT),
        ("reset", ErrorCode.NETWORK),
        ("malformed_json", ErrorCode.PROVIDER_ERROR),
    ],
)
def test_faults_on_later_calls(fal_provider, fal_settings, op, kind, code):
    submission = fal_provider.submit(request())
    fal_settings.complete_now(submission.request_id)
    if kind == "malformed_json" and op == "cancel":
        pytest.skip("cancel ignores its answer body on success")
    fal_settings.fail(op, kind, request_id=submission.request_id, hang_s=3)
    with pytest.raises(ProviderError) as caught:
        getattr(fal_provider, op)(submission)
    assert caught.value.code == code
    assert caught.value.request_sent is False  # only a submit can be ambiguous


def test_unknown_request_is_permanent(fal_provider, fal_settings):
    base = f"{fal_settings.url}/fal-ai/minimax/requests/nope"
    submission = Submission(
        "nope",
        {"status_url": f"{base}/status", "response_url": base, "cancel_url": f"{base}/cancel"},
    )
    with pytest.raises(ProviderError) as caught:
        fal_provider.status(submission)
    assert caught.value.code == ErrorCode.PROVIDER_ERROR and not caught.value.retryable


def test_cancel_then_status_reports_cancelled_and_late_cancel_is_quiet(fal_provider, fal_settings):
    submission = fal_provider.submit(request())
    fal_provider.cancel(submission)
    assert fal_settings.count("cancels") == 1
    assert fal_provider.status(submission).state == State.CANCELLED
    done = fal_provider.submit(request(job_id=2))
    fal_settings.complete_now(done.request_id)
    fal_provider.cancel(done)  # ALREADY_COMPLETED is not an error
    assert fal_provider.status(done).state == State.COMPLETED


@pytest.mark.parametrize(
    ("kind", "code", "permanent"),
    [
        ("expired", ErrorCode.PROVIDER_ERROR, True),
        ("huge_content_length", ErrorCode.PROVIDER_ERROR, True),
        ("big_body", ErrorCode.PROVIDER_ERROR, True),
        ("reset", ErrorCode.NETWORK, False),
    ],
)
def test_result_download_faults(
    fal_provider, fal_settings, settings, tmp_path, kind, code, permanent
):
    settings.GENERATION_MAX_RESULT_MB = 1
    submission = fal_provider.submit(request())
    fal_settings.complete_now(submission.request_id)
    result = fal_provider.result(submission)
    fal_settings.fail("file", kind, request_id=submission.request_id, big_mb=3)
    dest = tmp_path / "out.mp4"
    with pytest.raises(ProviderError) as caught:
        fetch_result(result.url, dest)
    assert caught.value.code == code and caught.value.permanent is permanent
    assert not dest.exists() and list(tmp_path.iterdir()) == []


def test_key_is_sent_but_never_logged(fal_provider, fal_settings, caplog):
    caplog.set_level(logging.INFO, logger="generation.providers")
    fal_settings.fail("submit", "unauthorized")
    with pytest.raises(ProviderError):
        fal_provider.submit(request(job_id=42, webhook_url="http://example.test/hook?token=sekret"))
    line = caplog.records[-1].getMessage()
    assert "provider=fal op=submit" in line and "job=42" in line and "status=401" in line
    assert fal_settings.key not in caplog.text and "sekret" not in caplog.text


def test_missing_key_refuses_before_sending(fal_provider, fal_settings, settings):
    settings.FAL_KEY = ""
    with pytest.raises(ProviderError) as caught:
        fal_provider.submit(request())
    assert caught.value.code == ErrorCode.AUTH and fal_settings.count("submits_received") == 0
    assert get_provider("fal").is_configured()[0] is False
