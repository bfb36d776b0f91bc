"""Reads from the media library."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import MediaItem
from .signals import media_item_usage

PAGE_SIZE = 48
SEARCH_MAX = 100


@dataclass
class MediaPage:
    items: list[MediaItem]
    next_cursor: str | None


def encode_cursor(item: MediaItem) -> str:
    raw = f"{item.created_at.isoformat()}|{item.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    """None for anything malformed: a bad cursor shows the first page, not an error."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.split("|")
        created = datetime.fromisoformat(stamp)
        return (created, int(pk)) if created.tzinfo else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def media_queryset(
    *, owner, kind: str | None = None, source: str | None = None, search: str | None = None
) -> QuerySet[MediaItem]:
    qs = MediaItem.objects.filter(owner=owner)
    if kind in MediaItem.Kind.values:
        qs = qs.filter(kind=kind)
    if source in MediaItem.Source.values:
        qs = qs.filter(source=source)
    search = (search or "").strip()[:SEARCH_MAX]
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(metadata__prompt__icontains=search))
    return qs


def media_list(
    *,
    owner,
    kind: str | None = None,
    source: str | None = None,
    search: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> MediaPage:
    """Newest first, keyset-paged on (created_at, id): one query per page, and page 100
    costs the same as page 1 (no OFFSET scan), whatever the library's size."""
    qs = media_queryset(owner=owner, kind=kind, source=source, search=search)
    after = decode_cursor(cursor) if cursor else None
    if after:
        created, pk = after
        qs = qs.filter(Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk))
    rows = list(qs.order_by("-created_at", "-id")[: limit + 1])
    more = len(rows) > limit
    items = rows[:limit]
    return MediaPage(items=items, next_cursor=encode_cursor(items[-1]) if more else None)


def media_get_for_owner(*, owner, media_id) -> MediaItem:
    """The item if `owner` owns it; 404 otherwise (never 403: do not confirm it exists)."""
    try:
        return MediaItem.objects.get(pk=int(media_id), owner=owner)
    except (MediaItem.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such media.") from exc


def media_timelines_using(*, item: MediaItem) -> list[str]:
    """Names of the timelines using this item, sorted, each once: whatever the receivers
    of `media_item_usage` answer (the editor is one), so media_library imports no app
    that uses it (dependencies point one way)."""
    names: set[str] = set()
    for _receiver, answer in media_item_usage.send(sender=MediaItem, item=item):
        names.update(n for n in answer or () if n)
    return sorted(names)
