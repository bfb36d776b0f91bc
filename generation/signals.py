"""Signals other apps may listen to without generation importing them (generation knows
no app above it; the editor places generations on timelines and listens here)."""

from django.dispatch import Signal

# Sent with `job=` (the row as just written, its new `status`) after every state change of
# a job and after a progress / queue-position change (services.transitions), inside the
# caller's transaction: a receiver that acts on it defers its work with
# transaction.on_commit, so a rolled-back step never reaches it. The editor's slots
# re-render their state and, on `succeeded`, schedule the fill
# (editor.receivers.slot_job_changed).
job_changed = Signal()
