"""Verifying that a webhook really comes from the provider.

fal signs each webhook with ED25519. The signed message is four lines: the request id,
the user id, the timestamp (X-Fal-Webhook-Request-Id, -User-Id, -Timestamp) and the hex
SHA-256 of the raw body. The hex signature is X-Fal-Webhook-Signature. The public keys
come from fal's JWKS (settings.FAL_JWKS_URL), are cached, and are fetched again once when
no cached key verifies (key rotation).

Replicate signs the Standard Webhooks way. The signed content is
"{webhook-id}.{webhook-timestamp}.{body}", HMAC-SHA256 with the secret after "whsec_"
(GET /v1/webhooks/default/secret, cached, or settings.REPLICATE_WEBHOOK_SECRET). It is
checked by the `standardwebhooks` package.

Either way a timestamp more than settings.WEBHOOK_TOLERANCE_S from now is refused, so a
captured webhook cannot be replayed later. See docs/providers/ for the sources.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.cache import cache
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .base import ProviderError
from .http import Caller

FAL_JWKS_CACHE_KEY = "providers:fal:jwks"
REPLICATE_SECRET_CACHE_KEY = "providers:replicate:webhook-secret"  # noqa: S105 - a cache key
# A forged signature must not make us hammer the JWKS endpoint.
_REFETCH_GUARD_KEY = "providers:fal:jwks:refetched"
_REFETCH_GUARD_S = 60


class WebhookRefused(Exception):
    """The webhook is not provably from the provider; `reason` is for the log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def verify_webhook(provider: str, headers: Mapping[str, str], body: bytes) -> None:
    if provider == "fal":
        verify_fal(headers, body)
    elif provider == "replicate":
        verify_replicate(headers, body)
    else:
        raise WebhookRefused(f"no webhook verification for {provider!r}")


# --- fal ---------------------------------------------------------------------------------
def verify_fal(headers: Mapping[str, str], body: bytes) -> None:
    lowered = {k.lower(): v for k, v in headers.items()}
    request_id = lowered.get("x-fal-webhook-request-id", "")
    user_id = lowered.get("x-fal-webhook-user-id", "")
    stamp = lowered.get("x-fal-webhook-timestamp", "")
    signature_hex = lowered.get("x-fal-webhook-signature", "")
    if not (request_id and user_id and stamp and signature_hex):
        raise WebhookRefused("fal webhook without its signature headers")
    _check_timestamp(stamp)
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise WebhookRefused("fal webhook signature is not hex") from None
    message = "\n".join([request_id, user_id, stamp, hashlib.sha256(body).hexdigest()]).encode()
    if _any_key_verifies(_fal_keys(), signature, message):
        return
    # Maybe fal rotated its keys since we cached them: look once more (not every time).
    if cache.add(_REFETCH_GUARD_KEY, 1, timeout=_REFETCH_GUARD_S):
        if _any_key_verifies(_fal_keys(refresh=True), signature, message):
            return
    raise WebhookRefused("fal webhook signature does not verify")


def _any_key_verifies(keys: list[bytes], signature: bytes, message: bytes) -> bool:
    for raw in keys:
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(signature, message)
            return True
        except (InvalidSignature, ValueError):
            continue
    return False


def _fal_keys(*, refresh: bool = False) -> list[bytes]:
    encoded = None if refresh else cache.get(FAL_JWKS_CACHE_KEY)
    if encoded is None:
        encoded = _fetch_fal_jwks()
        cache.set(FAL_JWKS_CACHE_KEY, encoded, timeout=settings.FAL_JWKS_CACHE_S)
    keys = []
    for x in encoded:
        try:
            keys.append(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
        except (binascii.Error, ValueError):
            continue
    return keys


def _fetch_fal_jwks() -> list[str]:
    caller = Caller("fal")
    try:
        response = caller.call("GET", settings.FAL_JWKS_URL, op="jwks")
    except ProviderError as exc:
        raise WebhookRefused(f"fal signing keys unavailable ({exc.code})") from None
    if response.status_code != 200:
        raise WebhookRefused(f"fal signing keys unavailable (HTTP {response.status_code})")
    try:
        keys = response.json().get("keys", [])
    except (ValueError, AttributeError):
        raise WebhookRefused("fal JWKS is not JSON") from None
    return [
        str(k["x"])
        for k in keys
        if isinstance(k, dict)
        and k.get("kty") == "OKP"
        and k.get("crv") == "Ed25519"
        and k.get("x")
    ]


# --- Replicate ---------------------------------------------------------------------------
def verify_replicate(headers: Mapping[str, str], body: bytes) -> None:
    lowered = {k.lower(): v for k, v in headers.items()}
    if not all(lowered.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")):
        raise WebhookRefused("Replicate webhook without its signature headers")
    _check_timestamp(lowered["webhook-timestamp"])
    try:
        Webhook(replicate_secret()).verify(body, lowered, json_parse=False)
    except WebhookVerificationError as exc:
        raise WebhookRefused(f"Replicate webhook signature does not verify ({exc})") from None
    except (ValueError, binascii.Error):
        raise WebhookRefused("Replicate webhook signature is malformed") from None


def replicate_secret() -> str:
    if settings.REPLICATE_WEBHOOK_SECRET:
        return settings.REPLICATE_WEBHOOK_SECRET
    secret = cache.get(REPLICATE_SECRET_CACHE_KEY)
    if secret:
        return secret
    caller = Caller("replicate", (settings.REPLICATE_API_TOKEN,))
    try:
        response = caller.call(
            "GET",
            f"{settings.REPLICATE_API_URL.rstrip('/')}/webhooks/default/secret",
            op="webhook_secret",
            headers={"Authorization": f"Bearer {settings.REPLICATE_API_TOKEN}"},
        )
    except ProviderError as exc:
        raise WebhookRefused(f"Replicate webhook secret unavailable ({exc.code})") from None
    if response.status_code != 200:
        raise WebhookRefused(f"Replicate webhook secret unavailable (HTTP {response.status_code})")
    try:
        secret = str(response.json()["key"])
    except (ValueError, KeyError, TypeError):
        raise WebhookRefused("Replicate webhook secret answer lacks key") from None
    cache.set(REPLICATE_SECRET_CACHE_KEY, secret, timeout=86400)
    return secret


def _check_timestamp(stamp: str) -> None:
    try:
        when = int(stamp)
    except ValueError:
        raise WebhookRefused("webhook timestamp is not a number") from None
    if abs(time.time() - when) > settings.WEBHOOK_TOLERANCE_S:
        raise WebhookRefused("webhook timestamp is outside the tolerance (replayed or late)")
