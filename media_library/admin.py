"""MediaItem admin with poster previews.

The panel's file URLs answer only the owner (another user's media is 404), so the admin
serves posters through its own staff-only view, using the same owner-checked-elsewhere
file response (Range, nosniff, presigned redirect on object storage).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from .models import MediaItem
from .serving import file_response


@admin.register(MediaItem)
class MediaItemAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "poster_thumb",
        "title",
        "owner",
        "kind",
        "source",
        "status",
        "size_bytes",
        "duration_s",
        "created_at",
    )
    list_filter = ("kind", "source", "status", ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("title",)
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = (
        "poster_preview",
        "file",
        "poster",
        "filmstrip",
        "waveform",
        "size_bytes",
        "mime_type",
        "duration_s",
        "width",
        "height",
        "fps",
        "video_codec",
        "audio_codec",
        "has_audio",
        "filmstrip_frames",
        "status",
        "error_message",
        "source",
        "metadata",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request):
        return False  # media arrives through upload, generation or export

    def _poster_url(self, item) -> str:
        return reverse("admin:media_library_mediaitem_poster", args=[item.pk])

    @admin.display(description="poster")
    def poster_thumb(self, item):
        if not item.poster:
            return "–"
        return format_html(
            '<img src="{}" alt="{}" style="height: 40px; width: auto; border-radius: 3px">',
            self._poster_url(item),
            item.title,
        )

    @admin.display(description="poster")
    def poster_preview(self, item):
        if not item.poster:
            return "No poster yet."
        return format_html(
            '<img src="{}" alt="{}" style="max-width: 480px; height: auto">',
            self._poster_url(item),
            item.title,
        )

    def get_urls(self):
        return [
            path(
                "<int:media_id>/poster/",
                self.admin_site.admin_view(self.poster_view),
                name="media_library_mediaitem_poster",
            ),
            *super().get_urls(),
        ]

    def poster_view(self, request, media_id: int):
        if not self.has_view_permission(request):
            raise Http404
        item = get_object_or_404(MediaItem, pk=media_id)
        if not item.poster:
            raise Http404
        return file_response(
            request,
            item.poster,
            content_type="image/jpeg",
            filename=f"poster-{item.pk}.jpg",
            modified=item.updated_at,
        )
