"""Storyboards: an ordered list of shots generated together onto a new track (models
Storyboard, StoryboardShot).

    parse_script(text, *, model_id, duration)  one shot per paragraph ("[6s]" or "6s:" at
                                               the start of a paragraph sets its length)
    storyboard_quote(*, user, shots)           every shot validated and priced, the total
                                               against the budget left (nothing written)
    storyboard_start(*, timeline, user, shots, chain=False)
                                               "Generate all": ONE request, all or none
    storyboard_release(*, owner_id)            start waiting shots while there is room
    storyboard_chain_next(*, slot_id)          continuity: a placed shot's last frame starts
                                               the next one
    storyboard_cancel_all / storyboard_retry_failed / shot_regenerate

How a storyboard beyond the concurrency limit runs: generation refuses a request that would
take the user past GENERATION_MAX_CONCURRENT live jobs (limits.check_and_reserve), so a
storyboard cannot start all its jobs at once. It is accepted whole instead: every shot is
validated and priced, the TOTAL is checked against the budget left under the budget row's
lock, a new track gets every shot's slot in order, and as many jobs as there is room for
start at once (generation's `jobs_create_many`: one limits check for them). The rest wait
here (StoryboardShot WAITING, their slots without a job); when any of the user's jobs ends
(generation.signals.job_changed) the editor's `storyboard_release` task starts the next
ones in order. The budget is checked for the whole storyboard when it is accepted but only
reserved as each job starts: spending elsewhere meanwhile can leave a later shot REFUSED,
and it says so (Retry failed puts it back in line).

Continuity (`chain`): "start each shot from the previous shot's last frame". Only the first
shot starts; each later one is CHAINED (priced without its image, so it must be an
image-to-video model) until the previous clip is placed in its slot, when the worker takes
the frame at that clip's out point (editor.tasks.storyboard_chain, the Continue frame
extraction) as its start image and puts it in the line.

Errors: ValidationError with a STORYBOARD_* code; generation's LimitExceeded (budget,
cooldown, rate) passes through for the views and the API to map.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from editor.models import Clip, Slot, Storyboard, StoryboardShot, Timeline, Track
from generation import catalog
from generation.limits import LimitExceeded, budget_for, budget_remaining
from generation.models import LIVE_STATUSES, GenerationBudget, GenerationJob
from generation.services.jobs import JobInvalid, job_estimate, jobs_create_many
from generation.services.transitions import IllegalTransition
from project.money import usd

from .common import MAX_TIMELINE_S, Recorder, lock_timeline, ms
from .slots import push_slot, slot_cancel
from .timelines import track_create_locked

logger = logging.getLogger("editor.storyboards")

STORYBOARD_EMPTY = "storyboard_empty"
STORYBOARD_INVALID = "storyboard_invalid"  # a shot's request is refused (names the shot)
STORYBOARD_TOO_LONG = "storyboard_too_long"
STORYBOARD_BUSY = "storyboard_busy"  # regenerate while the shot is still generating

MAX_SHOTS = 24
S = StoryboardShot.State

# "[6s] A fox…", "6 s: A fox…", "(8s) …" at the start of a paragraph: that shot's length.
_LENGTH = re.compile(r"^\s*[\[(]?\s*(\d{1,3})\s*(?:s|sec|seconds?)\s*[\])]?\s*[:.\-–—]?\s*", re.I)


@dataclass
class ShotIn:
    prompt: str
    model_id: str
    duration: int | None = None
    image_id: int | None = None

    def params(self) -> dict:
        out: dict = {"prompt": self.prompt, "duration": self.duration}
        if self.image_id:
            out["image_id"] = self.image_id
        return out


@dataclass
class Quote:
    shots: list[ShotIn]
    costs: list[Decimal | None]  # None: this shot's request is refused (see errors)
    errors: dict[int, str] = field(default_factory=dict)  # shot index -> sentence
    total: Decimal = Decimal("0")
    remaining: Decimal = Decimal("0")
    limit: Decimal = Decimal("0")

    @property
    def fits(self) -> bool:
        return not self.errors and self.total <= self.remaining

    @property
    def refusal(self) -> str:
        if not self.shots:
            return "Write at least one shot."
        if self.errors:
            index, message = next(iter(sorted(self.errors.items())))
            return f"Shot {index + 1}: {message}"
        if self.total > self.remaining:
            return budget_sentence(len(self.shots), self.total, self.remaining, self.limit)
        return ""


def budget_sentence(count: int, total, remaining, limit) -> str:
    return (
        f"These {count} shots would cost {usd(total)}, but only "
        f"{usd(max(remaining, Decimal('0')))} of your {usd(limit)} monthly budget remains. "
        "Nothing was started."
    )


def parse_script(text: str, *, model_id: str, duration: int | None = None) -> list[ShotIn]:
    """One shot per paragraph (blank lines between); line breaks inside a paragraph join
    with spaces. A leading "[6s]" / "6s:" sets that shot's length, else `duration`."""
    shots = []
    for block in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n")):
        prompt = " ".join(block.split())
        if not prompt:
            continue
        length = duration
        match = _LENGTH.match(prompt)
        if match and prompt[match.end() :].strip():
            length = int(match.group(1))
            prompt = prompt[match.end() :].strip()
        shots.append(ShotIn(prompt=prompt, model_id=model_id, duration=length))
    return shots


def _first_error(exc: JobInvalid) -> str:
    errors = {k: v for k, v in exc.errors.items() if k != "index"}
    return next(iter(errors.values()), "Please check the request.")


def _estimate(user, shot: ShotIn, index: int, chain: bool):
    """generation's estimate of one shot; in a chain every shot after the first starts
    from an image that does not exist yet (the previous clip's last frame), so it is
    priced without one and must be a model that takes a start image."""
    if not (chain and index > 0):
        return job_estimate(model_id=shot.model_id, params=shot.params(), owner=user)
    try:
        spec = catalog.get(shot.model_id)
    except KeyError:
        spec = None
    if spec is not None and (not spec.needs_image or spec.needs_end_image):
        raise JobInvalid(
            {
                "model": f"{spec.name} can't start from an image; in a chain every shot "
                "after the first needs an image-to-video model."
            }
        )
    return job_estimate(
        model_id=shot.model_id, params=_without_image(shot), owner=user, pricing_only=True
    )


def storyboard_quote(*, user, shots: list[ShotIn], chain: bool = False) -> Quote:
    """Validate and price every shot (nothing is written). The total is what "Generate
    all" checks against the budget as one request."""
    quote = Quote(shots=shots, costs=[])
    for index, shot in enumerate(shots):
        try:
            estimate = _estimate(user, shot, index, chain)
        except JobInvalid as exc:
            quote.errors[index] = _first_error(exc)
            quote.costs.append(None)
            continue
        quote.costs.append(estimate.total)
        quote.total += estimate.total
    quote.remaining = budget_remaining(user)
    quote.limit = budget_for(user).limit_usd
    return quote


def _check(shots: list[ShotIn]) -> None:
    if not shots:
        raise ValidationError("Write at least one shot.", code=STORYBOARD_EMPTY)
    if len(shots) > MAX_SHOTS:
        raise ValidationError(
            f"A storyboard has at most {MAX_SHOTS} shots ({len(shots)} given).",
            code=STORYBOARD_TOO_LONG,
        )


def _free_places(user) -> int | None:
    """How many more jobs the concurrency limit lets this user start now (None: no limit)."""
    max_live = budget_for(user).concurrency
    if max_live <= 0:
        return None
    live = GenerationJob.objects.filter(owner=user, status__in=LIVE_STATUSES).count()
    return max(0, max_live - live)


def storyboard_start(
    *, timeline: Timeline, user, shots: list[ShotIn], chain: bool = False
) -> Storyboard:
    """Generate all, all or none: a refused shot (ValidationError naming it) or a total over
    the budget (LimitExceeded, code "budget", with the amounts) starts nothing and adds
    nothing. Accepted: a new video track with one slot per shot, end to end in order; the
    shots the concurrency limit has room for start now, the rest wait (see the module
    docstring)."""
    from editor.live import push_timeline  # editor.live renders templates that read us

    if user.pk != timeline.owner_id:
        raise ValidationError("That timeline is not yours.", code=STORYBOARD_INVALID)
    _check(shots)
    estimates = []
    for index, shot in enumerate(shots):
        try:
            estimates.append(_estimate(user, shot, index, chain))
        except JobInvalid as exc:
            raise ValidationError(
                f"Shot {index + 1}: {_first_error(exc)}", code=STORYBOARD_INVALID
            ) from exc
    total = sum((e.total for e in estimates), Decimal("0"))
    lengths = [ms(e.params.get("duration") or _default_length(e.model_id)) for e in estimates]
    if sum(lengths) > MAX_TIMELINE_S:
        raise ValidationError("A timeline can be at most six hours long.", code=STORYBOARD_TOO_LONG)
    with transaction.atomic():
        tl = lock_timeline(timeline)
        # The budget row's lock (the one every create of this user takes) held to the end:
        # no other request spends between this check and the jobs below.
        budget_for(user)
        budget = GenerationBudget.objects.select_for_update().get(user=user)
        remaining = budget_remaining(user)
        if total > remaining:
            raise LimitExceeded(
                budget_sentence(len(shots), total, remaining, budget.limit_usd), code="budget"
            )
        free = _free_places(user)
        now = len(shots) if free is None else min(len(shots), free)
        if chain:
            now = min(now, 1)  # the others wait for their previous shot's last frame
        jobs = (
            jobs_create_many(
                user=user,
                requests=[(s.model_id, s.params()) for s in shots[:now]],
                estimates=estimates[:now],
            )
            if now
            else []
        )
        rec = Recorder(tl, "Storyboard: new track")
        track = track_create_locked(tl, rec, Track.Kind.VIDEO)
        rec.finish()
        board = Storyboard.objects.create(
            owner=user, timeline=tl, track=track, total_estimate=total, chain=chain
        )
        start = 0.0
        for index, (shot, estimate, length) in enumerate(
            zip(shots, estimates, lengths, strict=True)
        ):
            job = jobs[index] if index < now else None
            slot = Slot.objects.create(
                timeline=tl, track=track, job=job, start_s=ms(start), duration_s=length
            )
            StoryboardShot.objects.create(
                storyboard=board,
                position=index + 1,
                prompt=shot.prompt,
                model_id=estimate.model_id,
                params=_without_image(shot) if chain and index else shot.params(),
                estimated_cost=estimate.total,
                state=S.STARTED if job else (S.CHAINED if chain and index else S.WAITING),
                slot=slot,
            )
            start += length
        push_timeline(tl)
    logger.info("storyboard %s: %s shots, %s started now", board.pk, len(shots), now)
    return board


def _without_image(shot: ShotIn) -> dict:
    return {k: v for k, v in shot.params().items() if k != "image_id"}


def storyboard_chain_next(*, slot_id: int) -> str:
    """A chained shot's clip was placed in `slot_id`: the frame at its out point (the one
    on screen where the next shot begins) becomes the next shot's start image, and that
    shot joins the line. Returns "started-next", "no-next" or "gone". Idempotent: a next
    shot no longer CHAINED is left alone."""
    from .slots import clip_end_frame

    shot = (
        StoryboardShot.objects.select_related("storyboard", "slot")
        .filter(slot_id=slot_id, storyboard__chain=True)
        .first()
    )
    if shot is None or shot.slot is None or not shot.slot.filled:
        return "gone"
    following = (
        shot.storyboard.shots.select_related("slot").filter(position=shot.position + 1).first()
    )
    if following is None or following.state != S.CHAINED:
        return "no-next"
    clip = Clip.objects.select_related("media_item").filter(pk=shot.slot.clip_id).first()
    if clip is None:
        _refuse(following, "The previous shot's clip was removed: no frame to start from.")
        return "gone"
    try:
        frame = clip_end_frame(clip=clip)
    except ValidationError as exc:
        _refuse(following, exc.messages[0])
        return "gone"
    updated = StoryboardShot.objects.filter(pk=following.pk, state=S.CHAINED).update(
        state=S.WAITING, params={**following.params, "image_id": frame.pk}, note=""
    )
    if updated:
        if following.slot:
            push_slot(following.slot)
        storyboard_release(owner_id=shot.storyboard.owner_id)
    return "started-next"


def _default_length(model_id: str) -> float:
    spec = catalog.get(model_id)
    return spec.durations[0] if spec.durations else 5


# --- the line: waiting shots start as places free up ---------------------------------------


def _waiting(owner_id: int):
    return (
        StoryboardShot.objects.filter(storyboard__owner_id=owner_id, state=S.WAITING)
        .select_related("storyboard", "slot")
        .order_by("storyboard__created_at", "storyboard_id", "position")
    )


def storyboard_release(*, owner_id: int) -> tuple[int, int | None]:
    """Start the owner's waiting shots, in order, as far as the concurrency limit lets
    them (one request for those: one cooldown). Returns (started, retry_after): when a
    cooldown or the start rate holds them back, retry_after says when to try again (the
    task schedules itself); a budget refusal marks that shot REFUSED with the sentence."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=owner_id)
    started = 0
    one_at_a_time = False  # after a budget refusal: the first shot alone, so order holds
    while True:
        with transaction.atomic():
            shots = list(_waiting(owner_id).select_for_update(of=("self",), skip_locked=True))
            for shot in [s for s in shots if s.slot_id is None]:
                shot.state, shot.note = S.CANCELLED, "Its slot was removed."
                shot.save(update_fields=["state", "note", "updated_at"])
            shots = [s for s in shots if s.slot_id is not None]
            free = _free_places(user)
            batch = shots if free is None else shots[:free]
            if one_at_a_time:
                batch = batch[:1]
            if not batch:
                return started, None
            try:
                jobs = jobs_create_many(
                    user=user, requests=[(s.model_id, dict(s.params)) for s in batch]
                )
            except JobInvalid as exc:
                bad = batch[int(exc.errors.get("index", 0))]
                _refuse(bad, _first_error(exc))
                continue
            except LimitExceeded as exc:
                if exc.code == "concurrency":
                    return started, None  # a job started elsewhere took the place
                if exc.code in ("cooldown", "rate") and exc.retry_after:
                    return started, exc.retry_after
                if len(batch) > 1:
                    one_at_a_time = True  # maybe the first fits alone: ask for it alone
                    continue
                _refuse(batch[0], exc.message)
                continue
            for shot, job in zip(batch, jobs, strict=True):
                Slot.objects.filter(pk=shot.slot_id).update(job=job)
                shot.state, shot.note = S.STARTED, ""
                shot.save(update_fields=["state", "note", "updated_at"])
                push_slot(shot.slot)
            started += len(batch)
            if free is not None and not one_at_a_time:
                return started, None  # every place the limit had is taken


def _refuse(shot: StoryboardShot, message: str) -> None:
    shot.state, shot.note = S.REFUSED, message[:300]
    shot.save(update_fields=["state", "note", "updated_at"])
    push_slot(shot.slot)


def storyboards_job_changed(*, job: GenerationJob) -> None:
    """A job of this user ended: a place under the concurrency limit is free, so waiting
    shots may start (after the job's step commits)."""
    from editor import tasks

    if job.status in LIVE_STATUSES:
        return
    if _waiting(job.owner_id).exists():
        owner_id = job.owner_id
        transaction.on_commit(lambda: tasks.storyboard_release.delay(owner_id))


# --- Cancel all, Retry failed, Regenerate one shot ----------------------------------------


def _shots(board: Storyboard):
    return list(board.shots.select_related("slot", "slot__job").order_by("position"))


def storyboard_cancel_all(*, storyboard: Storyboard) -> int:
    """Waiting shots leave the line; running ones are cancelled (their slots stay, with
    Retry). Returns how many."""
    count = 0
    with transaction.atomic():
        for shot in _shots(storyboard):
            if shot.state in (S.WAITING, S.CHAINED):
                shot.state, shot.note = S.CANCELLED, ""
                shot.save(update_fields=["state", "note", "updated_at"])
                if shot.slot:
                    push_slot(shot.slot)
                count += 1
            elif shot.slot and shot.slot.job and shot.slot.job.is_live and not shot.slot.filled:
                try:
                    slot_cancel(slot=shot.slot)
                    count += 1
                except (IllegalTransition, ValidationError):  # it finished a moment ago
                    logger.info("storyboard shot %s finished before its cancel", shot.pk)
    return count


def _requeue(shot: StoryboardShot) -> None:
    Slot.objects.filter(pk=shot.slot_id).update(job=None, fill_note="", fill_mode="")
    # A chained shot that never got its start frame waits for it again.
    needs_frame = shot.storyboard.chain and shot.position > 1 and not shot.params.get("image_id")
    shot.state, shot.note = (S.CHAINED if needs_frame else S.WAITING), ""
    shot.save(update_fields=["state", "note", "updated_at"])


def _retryable(shot: StoryboardShot) -> bool:
    if shot.slot is None or shot.slot.filled:
        return False
    if shot.state in (S.CANCELLED, S.REFUSED):
        return True
    job = shot.slot.job
    return shot.state == S.STARTED and job is not None and job.can_retry


def storyboard_retry_failed(*, storyboard: Storyboard) -> int:
    """Failed, cancelled and refused shots go back in line (in order) and start as there
    is room. Returns how many went back."""
    from editor import tasks

    with transaction.atomic():
        every = _shots(storyboard)
        again = [s for s in every if _retryable(s)]
        for shot in again:
            _requeue(shot)
            before = every[shot.position - 2] if shot.position > 1 else None
            if shot.state == S.CHAINED and before and before.slot and before.slot.filled:
                # Its previous clip is already placed: take its frame now.
                slot_id = before.slot_id
                transaction.on_commit(lambda slot_id=slot_id: tasks.storyboard_chain.delay(slot_id))
    if again:
        _release_soon(storyboard.owner_id)
    return len(again)


def shot_regenerate(*, shot: StoryboardShot) -> StoryboardShot:
    """A new take of one shot in the same slot: a placed clip is removed first (an
    undoable Delete), then the shot waits for its turn. Refused while it generates."""
    from .clip_batches import clips_delete

    slot = shot.slot
    if slot is None:
        raise ValidationError("This shot's slot was removed.", code=STORYBOARD_BUSY)
    job = slot.job
    if job is not None and job.is_live and not slot.filled:
        raise ValidationError("This shot is still generating.", code=STORYBOARD_BUSY)
    if shot.state in (S.WAITING, S.CHAINED):
        raise ValidationError("This shot is already waiting to start.", code=STORYBOARD_BUSY)
    with transaction.atomic():
        if slot.filled and slot.clip_id and Clip.objects.filter(pk=slot.clip_id).exists():
            clips_delete(clips=[slot.clip_id], timeline=slot.timeline)
        Slot.objects.filter(pk=slot.pk).update(filled=False, clip_id=None)
        _requeue(shot)
    _release_soon(shot.storyboard.owner_id)
    shot.refresh_from_db()
    return shot


def _release_soon(owner_id: int) -> None:
    from editor import tasks

    transaction.on_commit(lambda: tasks.storyboard_release.delay(owner_id))


def storyboards_recover() -> int:
    """Worker start: a release lost with a killed worker is sent again for every owner
    with waiting shots (a release with no room does nothing)."""
    from editor import tasks

    owners = set(
        StoryboardShot.objects.filter(state=S.WAITING).values_list(
            "storyboard__owner_id", flat=True
        )
    )
    for owner_id in owners:
        tasks.storyboard_release.delay(owner_id)
    return len(owners)


def storyboards_of(*, timeline: Timeline) -> list[Storyboard]:
    return list(
        timeline.storyboards.prefetch_related("shots__slot__job").order_by("-created_at")[:5]
    )
