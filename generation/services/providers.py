"""The pipeline's view of the provider registry."""

from __future__ import annotations

from ..providers.base import Submission
from ..providers.registry import get_provider

# get_provider is the registry's own function (no wrapper), so a provider registered there
# for a test is what every pipeline step sees.
__all__ = ["LOCAL", "get_provider", "is_local", "submission_of"]

LOCAL = "local"


def is_local(name: str) -> bool:
    return name == LOCAL


def submission_of(job) -> Submission:
    return Submission(request_id=job.provider_request_id, handle=dict(job.provider_handle or {}))
