"""Signals other apps may listen to without media_library importing them."""

from django.dispatch import Signal

# Sent inside media_delete's transaction, before the row goes, with `item=`. The editor
# removes the item's clips here (through its own services, so timelines update and are
# pushed live); its foreign key is PROTECT, so without a receiver the delete is refused
# with a message instead of silently breaking timelines.
media_item_deleting = Signal()
