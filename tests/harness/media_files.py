"""Clean-up for tests that store real media files through a separate process (a web
server or a worker writes them, so no per-test MEDIA_ROOT fixture can catch them)."""

from __future__ import annotations

from media_library.models import MediaItem


def delete_media_files() -> None:
    """Delete every stored file of every media item (the original and what was derived)."""
    for item in MediaItem.objects.all():
        for f in (item.file, item.poster, item.filmstrip, item.waveform):
            if f:
                f.storage.delete(f.name)
