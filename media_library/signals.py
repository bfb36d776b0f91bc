"""Signals other apps may listen to without media_library importing them."""

from django.dispatch import Signal

# Sent inside media_delete's transaction, before the row goes, with `item=`. The editor
# removes the item's clips here (through its own services, so timelines update and are
# pushed live); its foreign key is PROTECT, so without a receiver the delete is refused
# with a message instead of silently breaking timelines.
media_item_deleting = Signal()

# Sent (with `item=`) to ask which timelines use an item, for the delete confirmation.
# Each receiver returns an iterable of the names of its places using the item; the editor
# answers for its timelines (connected in EditorConfig.ready). The media library knows
# nothing of who places its items, so with no receiver an item is simply unused.
media_item_usage = Signal()

# Sent (with `item=`) inside the transaction that gives an item a poster: when it becomes
# ready with its first poster, and again when the refined poster replaces it. Generation
# re-pushes the job card that made the item (its card shows the poster, and it was pushed
# when the job succeeded, before processing had made one). Receivers push after commit.
media_item_poster_changed = Signal()
