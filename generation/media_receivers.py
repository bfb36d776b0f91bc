"""Generation's answers to the media library's signals (connected in GenerationConfig.ready).

A job card shows its clip's poster, but the card is pushed when the job succeeds, which is
before the media worker has made a poster; so when a poster is written (first, then
refined) the cards of the jobs that produced the item are pushed again, rendered fresh."""

from .live import push_jobs_of_media_item


def push_job_cards_on_poster(sender, *, item, **kwargs) -> None:
    push_jobs_of_media_item(media_item_id=item.pk)
