"""Timelines, tracks, clips, the per-timeline edit history, and exports.

Time is stored as float seconds everywhere (like MediaItem.duration_s), and every service
rounds a time to the millisecond (`editor.services.common.ms`) before storing it, so the
overlap rule compares exact, reproducible values. Seconds on the timeline are `start_s`;
`in_s`/`out_s` are positions in the SOURCE media; a clip lasts `out_s - in_s` on the
timeline (no speed changes).

Track order: `order` is the display position from top to bottom. Video tracks are shown
above audio tracks; among video tracks the one shown higher is composited ON TOP of the
ones below it (what you see in the track list is the layer stack).

Audio of a video: a video clip itself never contributes sound to the export. When a video
with audio is added, the services also place an audio clip (same media item, same times)
on an audio track and link the two through `link_group`; deleting or muting that audio
clip is how the user silences the video.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Timeline(models.Model):
    class Preset(models.TextChoices):
        LANDSCAPE_1080 = "1920x1080", "1920×1080 (16:9)"
        PORTRAIT_1080 = "1080x1920", "1080×1920 (9:16)"
        SQUARE_1080 = "1080x1080", "1080×1080 (1:1)"
        LANDSCAPE_720 = "1280x720", "1280×720 (16:9)"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="timelines"
    )
    name = models.CharField(max_length=120)
    width = models.PositiveIntegerField(default=1920)
    height = models.PositiveIntegerField(default=1080)
    fps = models.FloatField(default=30.0)
    # Bumped by every recorded edit (and undo/redo) so a tab can tell a stale view.
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="timeline_owner_recent")]

    def __str__(self) -> str:
        return self.name

    @property
    def dom_id(self) -> str:
        return f"timeline-{self.pk}"

    @property
    def preset(self) -> str:
        """The preset key matching the size, or "" for a custom size."""
        key = f"{self.width}x{self.height}"
        return key if key in self.Preset.values else ""


class Track(models.Model):
    class Kind(models.TextChoices):
        VIDEO = "video", "Video"
        AUDIO = "audio", "Audio"

    timeline = models.ForeignKey(Timeline, on_delete=models.CASCADE, related_name="tracks")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    order = models.PositiveIntegerField(default=0)
    muted = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)

    class Meta:
        ordering = ["timeline", "order", "id"]
        indexes = [models.Index(fields=["timeline", "order"], name="track_timeline_order")]

    def __str__(self) -> str:
        return f"{self.kind} track {self.order} of timeline {self.timeline_id}"

    @property
    def dom_id(self) -> str:
        return f"track-{self.pk}"


class Clip(models.Model):
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="clips")
    # PROTECT: deleting a media item that a timeline uses must be an explicit decision
    # (the media panel's confirmation lists the timelines through `media_item.clips`).
    media_item = models.ForeignKey(
        "media_library.MediaItem", on_delete=models.PROTECT, related_name="clips"
    )
    start_s = models.FloatField(help_text="Position on the timeline, seconds.")
    in_s = models.FloatField(help_text="In point in the source, seconds.")
    out_s = models.FloatField(help_text="Out point in the source, seconds (exclusive).")
    volume = models.FloatField(default=1.0, help_text="Linear gain, 0..2 (audio clips).")
    # On a video track: the picture fades from / to black; on an audio track: the sound
    # fades from / to silence. Together never longer than the clip (services.common).
    fade_in_s = models.FloatField(default=0.0, help_text="Fade in at the start, seconds.")
    fade_out_s = models.FloatField(default=0.0, help_text="Fade out at the end, seconds.")
    # Clips sharing a group move, trim, split and delete together (video + its audio).
    link_group = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["track", "start_s", "id"]
        indexes = [models.Index(fields=["track", "start_s"], name="clip_track_start")]

    def __str__(self) -> str:
        return f"clip {self.pk} on track {self.track_id} @ {self.start_s}s"

    @property
    def dom_id(self) -> str:
        return f"clip-{self.pk}"

    @property
    def duration_s(self) -> float:
        return round(self.out_s - self.in_s, 3)

    @property
    def end_s(self) -> float:
        return round(self.start_s + self.out_s - self.in_s, 3)


class EditOperation(models.Model):
    """One undoable edit: snapshots of every track/clip it touched, before and after.

    A snapshot is {"tracks": {id: fields | null}, "clips": {id: fields | null}} where null
    means "did not exist". Undo applies `before`, redo applies `after`. The history is a
    line: a new edit drops every undone operation after it (no branches)."""

    timeline = models.ForeignKey(Timeline, on_delete=models.CASCADE, related_name="operations")
    seq = models.PositiveIntegerField()
    label = models.CharField(max_length=60)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    undone = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["timeline", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["timeline", "seq"], name="editop_timeline_seq")
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.label}{' (undone)' if self.undone else ''}"


class Export(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    LIVE_STATES = (Status.QUEUED, Status.RUNNING)

    class Preset(models.TextChoices):
        P1080 = "1080p", "1080p"
        P720 = "720p", "720p"
        P480 = "480p", "480p"
        TIMELINE = "timeline", "Timeline size"

    # SET_NULL: deleting a timeline keeps its past exports' records (the spec is frozen).
    timeline = models.ForeignKey(
        Timeline, on_delete=models.SET_NULL, null=True, blank=True, related_name="exports"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    preset = models.CharField(max_length=10, choices=Preset.choices, default=Preset.P1080)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    fps = models.FloatField()
    file_name = models.CharField(max_length=120)
    # The timeline as it was when Export was pressed: later edits don't change a render.
    spec = models.JSONField(default=dict, blank=True)
    duration_s = models.FloatField(default=0)
    progress = models.FloatField(default=0, help_text="0..1")
    eta_s = models.FloatField(null=True, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    cancel_requested = models.BooleanField(default=False)
    result = models.ForeignKey(
        "media_library.MediaItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="exports",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="export_owner_recent"),
            models.Index(fields=["status"], name="export_status"),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} {self.file_name} ({self.status})"

    @property
    def dom_id(self) -> str:
        return f"export-{self.pk}"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATES

    @property
    def progress_pct(self) -> int:
        return int(round(max(0.0, min(1.0, self.progress)) * 100))


class Slot(models.Model):
    """A generation placed on the timeline: a clip-shaped placeholder on a track, linked to
    the GenerationJob that will deliver its clip (editor.services.slots).

    The job's state is read from the job row (never copied here), so the slot shows what
    the generation panel shows. When the job succeeds and its media item is ready, the slot
    is *filled*: a real clip is placed at its start as one undoable edit. `filled` and
    `clip_id` are part of that edit's snapshot (undo unfills, redo fills again);
    `filled_job_id` is not: it records that this job's result was placed once, so a
    redelivered fill task or the recovery sweep never places it a second time — even after
    the creator undid the fill. `clip_id` is a plain id, not a foreign key: deleting the
    clip later must not bring the placeholder back."""

    class FillMode(models.TextChoices):
        EXACT = "exact", "Fits the slot"
        RIPPLED = "rippled", "Later clips rippled"
        TRIMMED = "trimmed", "Trimmed to the slot"
        RESIZED = "resized", "Took its real length"

    timeline = models.ForeignKey(Timeline, on_delete=models.CASCADE, related_name="slots")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="slots")
    # SET_NULL: a slot outlives an admin's cleanup of jobs; it then says so and can go.
    job = models.ForeignKey(
        "generation.GenerationJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slots",
    )
    start_s = models.FloatField(help_text="Position on the timeline, seconds.")
    duration_s = models.FloatField(help_text="The length asked for, seconds.")
    filled = models.BooleanField(default=False)
    clip_id = models.PositiveIntegerField(null=True, blank=True)
    filled_job_id = models.PositiveIntegerField(null=True, blank=True)
    fill_mode = models.CharField(max_length=8, choices=FillMode.choices, blank=True)
    # A sentence for the creator about the last fill (how it fit, or why it could not).
    fill_note = models.CharField(max_length=300, blank=True)
    filled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["track", "start_s", "id"]
        indexes = [
            models.Index(fields=["timeline", "filled"], name="slot_timeline_filled"),
        ]

    def __str__(self) -> str:
        return f"slot {self.pk} on track {self.track_id} @ {self.start_s}s"

    @property
    def dom_id(self) -> str:
        return f"slot-{self.pk}"

    @property
    def end_s(self) -> float:
        return round(self.start_s + self.duration_s, 3)


class Storyboard(models.Model):
    """An ordered list of shots generated together onto a new track of a timeline
    (editor.services.storyboards). Accepted as one request: the total is checked against the
    budget at once and every shot gets its slot; the shots beyond the user's concurrency
    limit wait here (StoryboardShot.State.WAITING) and start as places free up."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="storyboards"
    )
    timeline = models.ForeignKey(Timeline, on_delete=models.CASCADE, related_name="storyboards")
    # SET_NULL: removing the track keeps the record of what was asked.
    track = models.ForeignKey(
        Track, on_delete=models.SET_NULL, null=True, blank=True, related_name="storyboards"
    )
    total_estimate = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    # Continuity: each shot after the first starts from the previous clip's last frame,
    # so it waits for that clip to be placed (StoryboardShot.State.CHAINED).
    chain = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"storyboard {self.pk} on timeline {self.timeline_id}"

    @property
    def dom_id(self) -> str:
        return f"storyboard-{self.pk}"


class StoryboardShot(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for a free place"
        CHAINED = "chained", "Waits for the previous shot's last frame"
        STARTED = "started", "Started"  # its slot has a job; the job's row says the rest
        CANCELLED = "cancelled", "Cancelled before it started"
        REFUSED = "refused", "Could not start"  # `note` says why (a limit, a lost image)

    storyboard = models.ForeignKey(Storyboard, on_delete=models.CASCADE, related_name="shots")
    position = models.PositiveIntegerField()
    prompt = models.TextField()
    model_id = models.CharField(max_length=80)
    # The request as validated when the storyboard was accepted (generation's params).
    params = models.JSONField(default=dict)
    estimated_cost = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    note = models.CharField(max_length=300, blank=True)
    # SET_NULL: removing the slot from the timeline takes the shot out of the line.
    slot = models.OneToOneField(
        Slot, on_delete=models.SET_NULL, null=True, blank=True, related_name="storyboard_shot"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["storyboard", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["storyboard", "position"], name="storyboard_shot_position"
            )
        ]
        indexes = [models.Index(fields=["state"], name="storyboard_shot_state")]

    def __str__(self) -> str:
        return f"shot {self.position} of storyboard {self.storyboard_id} ({self.state})"
