"""The pipeline's one retry policy (generation/services/scheduling.retry_policy), as a
table: for each step, error and try number, retry (and roughly when) or give up."""

from __future__ import annotations

import httpx
import pytest

from generation.providers.base import ErrorCode, ProviderError
from generation.providers.http import rate_limited
from generation.services.scheduling import Step, retry_policy

MAX = 3


@pytest.fixture(autouse=True)
def policy_settings(settings):
    settings.GENERATION_MAX_ATTEMPTS = MAX
    settings.GENERATION_RETRY_BASE_S = 2
    settings.GENERATION_RETRY_MAX_S = 60


def err(code, **kw):
    return ProviderError(code, "detail", **kw)


@pytest.mark.parametrize(
    ("step", "error", "tries", "retried"),
    [
        # Errors retrying cannot fix: never, on any step, even on the first try.
        (Step.SUBMIT, err(ErrorCode.AUTH), 1, False),
        (Step.SUBMIT, err(ErrorCode.INVALID_INPUT), 1, False),
        (Step.SUBMIT, err(ErrorCode.CONTENT_POLICY), 1, False),
        (Step.POLL, err(ErrorCode.AUTH), 1, False),
        (Step.DOWNLOAD, err(ErrorCode.PROVIDER_ERROR, permanent=True), 1, False),
        # Transient errors: submit and download up to MAX tries in all.
        (Step.SUBMIT, err(ErrorCode.TIMEOUT), 1, True),
        (Step.SUBMIT, err(ErrorCode.RATE_LIMITED), MAX - 1, True),
        (Step.SUBMIT, err(ErrorCode.RATE_LIMITED), MAX, False),
        (Step.DOWNLOAD, err(ErrorCode.TIMEOUT), MAX - 1, True),
        (Step.DOWNLOAD, err(ErrorCode.TIMEOUT), MAX, False),
        # Polls are not counted out: the model's hard time limit ends the job instead.
        (Step.POLL, err(ErrorCode.PROVIDER_ERROR), MAX * 10, True),
        (Step.POLL, err(ErrorCode.RATE_LIMITED), 1, True),
    ],
)
def test_retry_or_give_up(step, error, tries, retried):
    assert (retry_policy(step, error, tries=tries) is not None) is retried


def test_backoff_grows_is_capped_and_yields_to_retry_after():
    delays = [
        retry_policy(Step.POLL, err(ErrorCode.TIMEOUT), tries=n).delay_s for n in (1, 2, 3, 4)
    ]
    # Equal jitter: try n waits between half and all of min(cap, base * 2^(n-1)).
    for n, delay in enumerate(delays, start=1):
        ceiling = min(60, 2 * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert retry_policy(Step.POLL, err(ErrorCode.TIMEOUT), tries=50).delay_s <= 60
    asked = retry_policy(Step.SUBMIT, err(ErrorCode.RATE_LIMITED, retry_after=42), tries=1)
    assert asked.delay_s == 42  # the provider asked for longer than the backoff


def test_every_provider_429_is_the_same_error():
    header = httpx.Response(429, headers={"retry-after": "7"})
    assert rate_limited(header, "x").code == ErrorCode.RATE_LIMITED
    assert rate_limited(header, "x").retry_after == 7
    # The header wins over the body's hint; without a header the body's hint is used.
    assert rate_limited(header, "x", body_retry_after=30).retry_after == 7
    assert rate_limited(httpx.Response(429), "x", body_retry_after=30).retry_after == 30
    assert rate_limited(httpx.Response(429), "x").retry_after is None
