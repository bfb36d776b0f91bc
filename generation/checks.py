"""Start-up checks of the provider keys' FORMAT (no network): a key pasted with a
stray quote, a newline or the wrong provider's token is caught when the server starts,
not when the first paid generation fails. A missing key is fine: its models are shown
as unavailable with a reason (catalog.available).

fal keys are "<key id>:<key secret>" (a UUID, a colon, a hex secret); Replicate API
tokens are 40 characters starting with "r8_" (replicate.com/docs/topics/security/api-tokens).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register

FAL_KEY_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9a-f]{16,128}$",
    re.IGNORECASE,
)
REPLICATE_TOKEN_RE = re.compile(r"^r8_[A-Za-z0-9]{37}$")

KEY_FORMATS = {
    "FAL_KEY": (FAL_KEY_RE, 'a fal key looks like "<uuid>:<hex secret>"', "generation.W001"),
    "REPLICATE_API_TOKEN": (
        REPLICATE_TOKEN_RE,
        'a Replicate API token is 40 characters starting with "r8_"',
        "generation.W002",
    ),
}


def key_format_problem(setting: str, value: str) -> str:
    """'' when `value` is empty or well-formed, else what is wrong (never the value)."""
    if not value:
        return ""
    pattern, shape, _ = KEY_FORMATS[setting]
    if value != value.strip():
        return f"{setting} has leading or trailing whitespace (a pasted newline?)"
    if value[:1] in "\"'" or value[-1:] in "\"'":
        return f"{setting} is wrapped in quotes"
    if not pattern.match(value):
        return f"{setting} is malformed: {shape}"
    return ""


@register("generation")
def check_provider_keys(app_configs=None, **kwargs):
    problems = []
    for setting, (_, _, check_id) in KEY_FORMATS.items():
        message = key_format_problem(setting, getattr(settings, setting) or "")
        if message:
            problems.append(
                CheckWarning(
                    message,
                    hint=(
                        f"Copy {setting} again from the provider's dashboard. Until it is "
                        "fixed, every generation on this provider will fail with an "
                        "authentication error. Admin > Provider connections tests it."
                    ),
                    id=check_id,
                )
            )
    return problems
