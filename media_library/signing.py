"""Short-lived signed download links, for clients that hold no session (API scripts).

The link names one item and its owner; it expires after MEDIA_SIGNED_URL_MAX_AGE_S (10
minutes unless configured) and cannot be widened to another item. Only the holder of the
link gets the file: it is a bearer credential, so it lives minutes, not hours, and its
`sig` is redacted from every log line (project/logging.py)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from .models import MediaItem

SALT = "cutroom.media.download"


def download_token(item: MediaItem) -> str:
    return signing.dumps({"m": item.pk, "u": item.owner_id}, salt=SALT, compress=True)


def item_for_download_token(media_id: int, token: str) -> MediaItem | None:
    """The item the token was issued for, or None (bad, expired, or for another item)."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.MEDIA_SIGNED_URL_MAX_AGE_S)
    except signing.BadSignature:  # SignatureExpired is a subclass
        return None
    if not isinstance(payload, dict) or payload.get("m") != media_id:
        return None
    return MediaItem.objects.filter(pk=media_id, owner_id=payload.get("u")).first()
