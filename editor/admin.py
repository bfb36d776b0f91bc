from django.contrib import admin

from .models import Clip, EditOperation, Export, Timeline, Track


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0


@admin.register(Timeline)
class TimelineAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "width", "height", "fps", "revision", "updated_at")
    search_fields = ("name", "owner__username")
    inlines = [TrackInline]


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    list_display = ("id", "track", "media_item", "start_s", "in_s", "out_s", "volume")
    raw_id_fields = ("track", "media_item")


@admin.register(EditOperation)
class EditOperationAdmin(admin.ModelAdmin):
    list_display = ("timeline", "seq", "label", "undone", "created_at")
    list_filter = ("undone",)


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ("id", "file_name", "owner", "status", "progress", "width", "height", "fps")
    list_filter = ("status", "preset")
    # State changes go through editor.services (guarded transitions), not the admin form.
    readonly_fields = [f.name for f in Export._meta.fields]
