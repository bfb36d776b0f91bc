"""The one state-machine style (project.state_machine) as each app applies it: generation
jobs, media items and exports. For every machine, as a table over all state pairs: an
allowed transition moves the row and pushes its card once; a disallowed one raises
IllegalTransition (NOT_ALLOWED, with the from/to states) and leaves the row exactly as it
was; a stale or concurrent transition loses because its conditional UPDATE matched no row."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

import generation.services
import media_library.services
from editor.models import Export
from editor.services.exports import EXPORTS, export_mark_succeeded
from editor.services.recovery import WORKER_LOST, export_sweep
from generation.services.transitions import JOBS
from media_library.models import MediaItem
from media_library.services import MEDIA, media_mark_failed
from project.state_machine import IllegalTransition, StateMachine
from tests.unit.job_fakes import make_job


def make_media(user, status: str) -> MediaItem:
    return MediaItem.objects.create(
        owner=user, kind="video", title="clip", file="u0/clip.mp4", status=status
    )


def make_export(user, status: str) -> Export:
    return Export.objects.create(
        owner=user, width=640, height=360, fps=30, file_name="cut.mp4", status=status
    )


@dataclass(frozen=True)
class Case:
    machine: StateMachine
    make: Any  # (user, status) -> a saved row in that state
    dom_id: str  # the pushed card's element id, with {pk}


CASES = {
    "job": Case(JOBS, lambda user, status: make_job(user, status=status), "job-{pk}"),
    "media": Case(MEDIA, make_media, "media-{pk}"),
    "export": Case(EXPORTS, make_export, "export-{pk}"),
}


def _states(machine: StateMachine) -> list[str]:
    return [value for value, _ in machine.model._meta.get_field(machine.field).choices]


def _pairs(name: str, allowed: bool) -> list:
    machine = CASES[name].machine
    return [
        pytest.param(name, current, to, id=f"{name}:{current}->{to}")
        for current in _states(machine)
        for to in _states(machine)
        if machine.allows(current, to) is allowed
    ]


ALLOWED_PAIRS = [p for name in CASES for p in _pairs(name, True)]
DISALLOWED_PAIRS = [p for name in CASES for p in _pairs(name, False)]


def _row(obj) -> dict:
    return type(obj).objects.filter(pk=obj.pk).values().get()


@pytest.fixture
def pushed(monkeypatch) -> list[tuple[int, str]]:
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr("project.live.broadcast", lambda uid, html: sent.append((uid, html)))
    return sent


def test_every_app_raises_the_one_shared_illegal_transition():
    assert generation.services.IllegalTransition is IllegalTransition
    assert media_library.services.IllegalTransition is IllegalTransition


def test_every_table_covers_every_state_and_finished_states_are_final():
    for name, case in CASES.items():
        states = set(_states(case.machine))
        assert set(case.machine.allowed) == states, name
        for current, targets in case.machine.allowed.items():
            assert targets <= states, (name, current)
    assert MEDIA.allowed[MediaItem.Status.READY] == frozenset()
    assert MEDIA.allowed[MediaItem.Status.FAILED] == frozenset()
    for final in (Export.Status.SUCCEEDED, Export.Status.FAILED, Export.Status.CANCELLED):
        assert EXPORTS.allowed[final] == frozenset()


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "current", "to"), ALLOWED_PAIRS)
def test_an_allowed_transition_moves_the_row_and_pushes_its_card_once(
    name, current, to, user, pushed, django_capture_on_commit_callbacks
):
    case = CASES[name]
    obj = case.make(user, current)
    before = _row(obj)
    with django_capture_on_commit_callbacks(execute=True):
        assert case.machine.transition(obj, to) is True
    after = _row(obj)
    assert after["status"] == to and obj.status == to
    assert after["updated_at"] > before["updated_at"]
    assert len(pushed) == 1
    uid, html = pushed[0]
    assert uid == user.pk
    assert f'id="{case.dom_id.format(pk=obj.pk)}"' in html and f'data-status="{to}"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "current", "to"), DISALLOWED_PAIRS)
def test_a_disallowed_transition_raises_and_leaves_the_row_unchanged(
    name, current, to, user, pushed, django_capture_on_commit_callbacks
):
    case = CASES[name]
    obj = case.make(user, current)
    before = _row(obj)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(IllegalTransition) as refused:
            case.machine.transition(obj, to, error_message="must not be written")
    assert refused.value.code == IllegalTransition.NOT_ALLOWED
    assert (refused.value.from_state, refused.value.to_state) == (current, to)
    assert refused.value.machine == case.machine.name and refused.value.pk == obj.pk
    assert _row(obj) == before
    assert obj.status == current
    assert pushed == []


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "current", "to"), ALLOWED_PAIRS)
def test_a_stale_copy_loses_to_the_transition_that_moved_the_row(
    name, current, to, user, pushed, django_capture_on_commit_callbacks
):
    """Two writers saw `current`; the first moves the row, the second's conditional UPDATE
    matches no row: it returns False (or raises STALE), writes nothing and pushes nothing."""
    case = CASES[name]
    winner = case.make(user, current)
    loser = type(winner).objects.get(pk=winner.pk)
    first = sorted(case.machine.allowed[current])[0]
    assert first != current  # the winner really leaves the state the loser saw
    with django_capture_on_commit_callbacks(execute=True):
        assert case.machine.transition(winner, first) is True
    won = _row(winner)
    pushed.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert case.machine.transition(loser, to, error_message="the loser's") is False
    assert _row(winner) == won
    assert loser.status == first  # refreshed: the loser now sees what happened
    assert pushed == []

    again = type(winner).objects.get(pk=winner.pk)
    again.status = current  # an in-memory copy from before the race
    with pytest.raises(IllegalTransition) as lost:
        case.machine.transition_or_raise(again, to, error_message="the loser's")
    assert lost.value.code == IllegalTransition.STALE
    assert (lost.value.from_state, lost.value.to_state, lost.value.found) == (current, to, first)
    assert _row(winner) == won


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", list(CASES))
def test_concurrent_transitions_from_one_state_exactly_one_wins(name, user, pushed):
    """Several workers (own connections, released together) move the same row from the
    state they all saw; the database lets one UPDATE match and the others match nothing."""
    case = CASES[name]
    start = {"job": "queued", "media": "processing", "export": "running"}[name]
    targets = sorted(case.machine.allowed[start] - {start})
    row = case.make(user, start)
    workers = 4
    barrier = threading.Barrier(workers)
    outcomes: list[tuple[str, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        to = targets[i % len(targets)]
        try:
            mine = type(row).objects.get(pk=row.pk)
            barrier.wait(timeout=10)
            moved = case.machine.transition(mine, to)
            with lock:
                outcomes.append((to, moved))
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and len(outcomes) == workers
    winners = [to for to, moved in outcomes if moved]
    assert len(winners) == 1
    assert type(row).objects.get(pk=row.pk).status == winners[0]
    assert len(pushed) == 1 and f'data-status="{winners[0]}"' in pushed[0][1]


# --- the apps' public steps go through their machine -------------------------------------


@pytest.mark.django_db
def test_the_worker_cannot_finish_an_export_the_sweeper_failed(user, pushed):
    """The sweeper fails a silent export through the public running -> failed step; the
    worker's late outcome then finds it not running and loses without overwriting it."""
    export = make_export(user, Export.Status.RUNNING)
    assert export_sweep(stale_after_s=0) == [export.pk]
    with pytest.raises(IllegalTransition) as lost:
        export_mark_succeeded(export_id=export.pk, result=None)
    assert lost.value.code == IllegalTransition.STALE
    assert (lost.value.from_state, lost.value.found) == ("running", "failed")
    export.refresh_from_db()
    assert export.status == "failed" and export.error_message == WORKER_LOST


@pytest.mark.django_db
def test_a_media_step_on_a_finished_item_is_refused_and_on_a_deleted_one_is_none(user, pushed):
    item = make_media(user, MediaItem.Status.READY)
    before = _row(item)
    with pytest.raises(IllegalTransition) as refused:
        media_mark_failed(media_id=item.pk, message="late")
    assert refused.value.code == IllegalTransition.NOT_ALLOWED
    assert _row(item) == before
    gone = make_media(user, MediaItem.Status.PROCESSING)
    stale = MediaItem.objects.get(pk=gone.pk)
    gone.delete()
    with pytest.raises(IllegalTransition) as lost:
        MEDIA.transition_or_raise(stale, MediaItem.Status.FAILED)
    assert lost.value.code == IllegalTransition.STALE and lost.value.found is None
    assert media_mark_failed(media_id=stale.pk, message="gone") is None
    assert pushed == []
