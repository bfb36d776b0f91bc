"""Logging filters: a request id on every line (set by middleware, read by RequestIdFilter),
and no secret in any line (RedactSecretsFilter, around `redact_secrets`).

Secrets travel in URLs here: the per-job webhook token is a path segment
(/generation/webhooks/<provider>/<token>/), signed download links carry `?sig=`, object
storage links carry X-Amz-Signature, and provider URLs may carry keys. The web server's
access log, Django's request log and Celery all print URLs, so the filter sits on every
handler settings.LOGGING defines and on the loggers that print URLs themselves (they keep
their own handlers in some setups: uvicorn's CLI config, Celery's worker)."""

from __future__ import annotations

import contextvars
import logging
import re

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REDACTED = "[redacted]"

# A path separator as it appears raw or percent-encoded (a webhook URL sent as a query
# parameter, fal's `?fal_webhook=https%3A%2F%2F…`, is logged encoded).
_SEP = r"(?:/|%2[fF])"

# Query (or form, or key=value log) parameters whose value is a credential. Matched as a
# whole parameter name after ?, &, ; or a word boundary, case-insensitively.
_SECRET_PARAMS = (
    "sig",
    "signature",
    "token",
    "access_token",
    "refresh_token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "password",
    "passwd",
    "sessionid",
    "csrftoken",
    "fal_webhook",
    "webhook",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
)

_PARAM_NAMES = "|".join(re.escape(name) for name in _SECRET_PARAMS)

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # /generation/webhooks/<provider>/<per-job token>/ (the token authenticates the call).
    (
        re.compile(rf"({_SEP}generation{_SEP}webhooks{_SEP}[^/\s?#&%\"']+{_SEP})[^/\s?#&%\"']+"),
        rf"\1{REDACTED}",
    ),
    # Authorization: Key …, "Authorization": "Bearer …", authorization=Token … (the
    # scheme stays: it tells which credential was used, not what it was).
    (
        re.compile(
            r"(?i)(\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)"
            r"((?:bearer|key|token|basic)\s+)?[^\s,;\"'}]+"
        ),
        rf"\1\2{REDACTED}",
    ),
    # ?sig=…, &token=…, X-Amz-Signature=…, password=… (URLs, form bodies, key=value).
    (
        re.compile(r"(?i)(\b(?:" + _PARAM_NAMES + r")=)[^\s&;,\"'}#)]+"),
        rf"\1{REDACTED}",
    ),
    # The same names as JSON or dict keys: "token": "…", 'sig': '…'.
    (
        re.compile(r"(?i)([\"'](?:" + _PARAM_NAMES + r")[\"']\s*:\s*[\"'])[^\"']+"),
        rf"\1{REDACTED}",
    ),
    # user:password@host in a URL.
    (re.compile(r"(://[^/\s:@]+:)[^/\s@]+@"), rf"\1{REDACTED}@"),
    # Credentials by their shape, wherever they appear: fal keys (<uuid>:<hex>),
    # Replicate API tokens and webhook secrets, our own API tokens.
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
            r":[0-9a-fA-F]{16,}\b"
        ),
        REDACTED,
    ),
    (re.compile(r"\br8_[A-Za-z0-9]{10,}"), REDACTED),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]{10,}"), REDACTED),
    (re.compile(r"\bcrt_[A-Za-z0-9_-]{10,}"), REDACTED),
]


def redact_secrets(text: str) -> str:
    """`text` with every credential we know the shape or the place of replaced by
    [redacted]. Idempotent; text without secrets comes back unchanged."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value):
    """Strings and containers are redacted as such. Any other object (a request, a URL
    object) is left as it is unless its text holds a secret, in which case the redacted
    text replaces it: the formatter would print that text (the JSON formatter prints
    `extra=` objects such as django.request's `request` with str())."""
    if isinstance(value, str):
        return redact_secrets(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, tuple):
        return tuple(_redact_value(v) for v in value)
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - a broken __str__ must not lose the log line
        return value
    redacted = redact_secrets(text)
    return value if redacted == text else redacted


# LogRecord attributes that are not message content (the rest, `extra=` fields included,
# is what the JSON formatter prints).
_RECORD_FIELDS = frozenset(
    vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None)).keys()
) | {"message", "asctime", "request_id"}


class RedactSecretsFilter(logging.Filter):
    """Redacts a record in place: the message template, each argument (kept as a tuple
    of the same shape, since uvicorn's access formatter unpacks it), the `extra=` fields,
    and the traceback text. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Idempotent, so a record that passes a logger filter and then a handler filter
        # is simply redacted twice (a marker attribute would show up in the JSON lines).
        record.msg = _redact_value(record.msg)
        if isinstance(record.args, dict):
            record.args = _redact_value(record.args)
        elif record.args:
            record.args = tuple(_redact_value(a) for a in record.args)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_FIELDS:
                setattr(record, name, _redact_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_secrets(record.stack_info)
        return True


def install_redaction(logger: logging.Logger) -> None:
    """Put the filter on `logger` and on each of its handlers (for loggers configured
    outside settings.LOGGING: Celery's worker and task loggers)."""
    for target in (logger, *logger.handlers):
        if not any(isinstance(f, RedactSecretsFilter) for f in target.filters):
            target.addFilter(RedactSecretsFilter())


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True
