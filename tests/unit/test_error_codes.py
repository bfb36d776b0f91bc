"""Errors are classified by their code, never by their wording: a message can change (or
be translated) without changing a status or the sentence a user reads."""

from __future__ import annotations

from generation.api.routes import _refused
from generation.providers.base import RESULT_EXPIRED, RESULT_TOO_LARGE, ErrorCode, ProviderError
from generation.services.finalize import EXPIRED, download_failure_message, too_large_message
from media_library.services import MediaRejected


def test_download_failures_are_told_by_reason():
    too_large = ProviderError(ErrorCode.PROVIDER_ERROR, "anything", reason=RESULT_TOO_LARGE)
    expired = ProviderError(ErrorCode.PROVIDER_ERROR, "anything", reason=RESULT_EXPIRED)
    assert download_failure_message(too_large) == too_large_message()
    assert download_failure_message(expired) == EXPIRED
    # The words alone no longer decide anything.
    worded = ProviderError(ErrorCode.PROVIDER_ERROR, "link expired; larger than the limit")
    assert download_failure_message(worded) == worded.user_message


def test_upload_refusals_map_their_code_to_a_status():
    for code in MediaRejected.TOO_LARGE:
        assert _refused(MediaRejected("Refused.", code))[0] == 413
    assert _refused(MediaRejected("This is too large, says the text.", "truncated"))[0] == 400
    assert _refused(MediaRejected("Refused.", "not_media"))[0] == 400
