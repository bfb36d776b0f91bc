"""Per-user rate limits and the monthly spend budget.

`check_and_reserve` runs inside jobs_create_batch's transaction, under a row lock on the user's
GenerationBudget row: two creates for one user are serialised there, so the budget, the
concurrency cap, the cooldown and the start rate cannot be beaten by sending requests in
parallel. The rate is a sliding window over the user's jobs in the database (`_check_rate`).
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from project.money import usd

from .models import LIVE_STATUSES, GenerationBudget, GenerationJob

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class LimitExceeded(Exception):
    """Refused by a limit. The API answers 429 with `Retry-After: retry_after`."""

    def __init__(self, message: str, retry_after: int | None = None, *, code: str = "limit"):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.code = code


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/m' -> (10, 60); '100/5m' -> (100, 300)."""
    count, _, period = rate.partition("/")
    unit = period[-1:] or "m"
    multiplier = int(period[:-1]) if period[:-1].isdigit() else 1
    return int(count), multiplier * _PERIODS.get(unit, 60)


def _month_start(now) -> object:
    return now.date().replace(day=1)


def budget_for(user) -> GenerationBudget:
    budget, _ = GenerationBudget.objects.get_or_create(user=user)
    return budget


def budget_remaining(user) -> Decimal:
    budget = budget_for(user)
    spent = budget.spent_usd if budget.month == _month_start(timezone.now()) else Decimal("0")
    return max(Decimal("0"), budget.limit_usd - spent - budget.reserved_usd)


def _check_rate(user, budget: GenerationBudget, jobs: int, now) -> None:
    """A sliding window: the starts (jobs created, whatever became of them) in the `period`
    seconds before `now`, counted from the database under the budget row's lock that
    serialises this user's creates on every web node — so no boundary lets a burst
    through (a fixed per-minute counter let 13 starts in 38 s across one), and racing
    requests cannot both take the last place. A refused request starts nothing, so it
    uses none of the allowance."""
    limit, period = budget.rate
    if limit <= 0:
        return
    if jobs > limit:
        raise LimitExceeded(
            f"The limit is {limit} generations in any {_period_words(period)}; "
            "start fewer at once.",
            None,
            code="rate",
        )
    window = GenerationJob.objects.filter(
        owner=user, created_at__gt=now - timedelta(seconds=period)
    )
    started = window.count()
    if started + jobs <= limit:
        return
    # Room for this request once the `leave`-th oldest start has left the window.
    leave = started + jobs - limit
    oldest = window.order_by("created_at", "id").values_list("created_at", flat=True)
    leaves_at = oldest[leave - 1] + timedelta(seconds=period)
    retry_after = max(1, math.ceil((leaves_at - now).total_seconds()))
    plural = "s" if started != 1 else ""
    what = f"You started {started} generation{plural} in the last {_period_words(period)}"
    if started < limit:
        what += f" and asked for {jobs} more (the limit is {limit})"
    raise LimitExceeded(f"{what}; try again in {retry_after} s.", retry_after, code="rate")


def _period_words(period: int) -> str:
    return {1: "second", 60: "minute", 3600: "hour", 86400: "day"}.get(period, f"{period} s")


BROKER_PROBE_KEY = "generation:start-probe"


def check_and_reserve(*, user, estimate: Decimal, jobs: int = 1, now=None) -> Decimal:
    """Refuse (LimitExceeded) or reserve `estimate` against the user's monthly budget.

    One call per request: `estimate` is the whole request's cost and `jobs` how many jobs
    it starts (a batch of variations is checked once, all or none). The cooldown is
    between requests; concurrency, budget and rate count every job of the batch.

    Must be called inside the transaction that saves the jobs, so a failure later in
    jobs_create_batch rolls the reservation back with it. Returns the amount reserved.
    `now` is the clock (tests pass their own; the jobs' created_at is the same clock).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("check_and_reserve must run inside jobs_create_batch's transaction")
    now = now or timezone.now()
    # Every start enqueues its first step on the broker (Redis) once the jobs are saved.
    # With Redis down that enqueue would fail after the commit: the creator would be told
    # "unavailable" while the jobs sat stored and later ran. Ask Redis first, before anything
    # is stored; its connection error becomes the 503 (project.middleware.BackendDownMiddleware).
    # (The fixed-window rate counter used to make this round trip; the sliding window is
    # counted in the database.)
    cache.get(BROKER_PROBE_KEY)
    # The lock that serialises this user's creates. The first statement must be a write:
    # SQLite takes its write lock then, and a transaction that read first cannot wait for
    # the lock ("database is locked" at once). On PostgreSQL the UPDATE and the FOR UPDATE
    # both take the row lock.
    if not GenerationBudget.objects.filter(user=user).update(month=F("month")):
        GenerationBudget.objects.get_or_create(user=user)
    budget = GenerationBudget.objects.select_for_update().get(user=user)

    if budget.month != _month_start(now):
        # A new month: spending starts again; reservations still outstanding carry over.
        budget.month = _month_start(now)
        budget.spent_usd = Decimal("0")

    cooldown = budget.cooldown
    if cooldown > 0 and budget.last_created_at:
        wait = cooldown - (now - budget.last_created_at).total_seconds()
        if wait > 0:
            raise LimitExceeded(
                f"Please wait {math.ceil(wait)} s between generations.",
                math.ceil(wait),
                code="cooldown",
            )

    max_live = budget.concurrency
    if max_live > 0:
        live = GenerationJob.objects.filter(owner=user, status__in=LIVE_STATUSES).count()
        if live + jobs > max_live:
            more = "" if jobs == 1 else f" and asked for {jobs} more"
            raise LimitExceeded(
                f"You already have {live} generations in progress{more} (the limit is "
                f"{max_live}). Start another when one finishes.",
                10,
                code="concurrency",
            )

    remaining = budget.limit_usd - budget.spent_usd - budget.reserved_usd
    if estimate > remaining:
        raise LimitExceeded(
            f"{'This generation' if jobs == 1 else f'These {jobs} variations'} would cost "
            f"{usd(estimate)}, but only "
            f"{usd(max(remaining, Decimal('0')))} of your {usd(budget.limit_usd)} monthly "
            "budget remains.",
            None,
            code="budget",
        )

    _check_rate(user, budget, jobs, now)

    budget.reserved_usd += estimate
    budget.last_created_at = now
    budget.save(update_fields=["month", "spent_usd", "reserved_usd", "last_created_at"])
    return estimate


def _take_reservation(job: GenerationJob) -> Decimal:
    """Zero the job's reservation exactly once (conditional UPDATE), returning it."""
    amount = job.reserved_cost or Decimal("0")
    if amount <= 0:
        return Decimal("0")
    taken = GenerationJob.objects.filter(pk=job.pk, reserved_cost=amount).update(
        reserved_cost=Decimal("0")
    )
    job.reserved_cost = Decimal("0")
    return amount if taken else Decimal("0")


def reservation_release(*, job: GenerationJob) -> Decimal:
    """Give the reservation back (cancelled before the provider billed, or a failure the
    provider does not bill)."""
    with transaction.atomic():
        amount = _take_reservation(job)
        if amount:
            GenerationBudget.objects.filter(user_id=job.owner_id).update(
                reserved_usd=F("reserved_usd") - amount
            )
    return amount


def reservation_settle(*, job: GenerationJob, amount: Decimal) -> None:
    """Turn the reservation into spending of `amount` (the actual cost when the provider
    reports one, else the estimate)."""
    with transaction.atomic():
        reserved = _take_reservation(job)
        month = _month_start(timezone.now())
        GenerationBudget.objects.filter(user_id=job.owner_id).update(month=F("month"))
        budget = GenerationBudget.objects.select_for_update().filter(user_id=job.owner_id).first()
        if budget is None:
            return
        if budget.month != month:
            budget.month = month
            budget.spent_usd = Decimal("0")
        budget.reserved_usd = max(Decimal("0"), budget.reserved_usd - reserved)
        budget.spent_usd += amount
        budget.save(update_fields=["month", "spent_usd", "reserved_usd"])
