"""The one guarded state-machine style, shared by generation jobs, media items and exports.

Each app keeps, next to its service, its table of allowed transitions (data: state ->
the states it may move to) and what to push after a transition; this module only applies
a table. A transition is a conditional UPDATE (`WHERE pk = … AND status = <the state the
caller saw>`), so of two workers racing on one row (a redelivered task, a duplicate
webhook, a sweeper) exactly one moves it: the other's UPDATE matches no row, and the
loser learns it without a lock held across slow work. A change the table forbids is
refused before anything is written. Both are reported with the one IllegalTransition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone


class IllegalTransition(Exception):
    """A state change the row's state does not allow, or a race another writer won.

    `code` says which (callers branch on it, never on the message); `from_state` and
    `to_state` are the change that was asked for; `found` is the state the row turned out
    to be in when another writer moved it (None when the row is gone)."""

    # The table has no edge from the state the caller saw to the one it asked for.
    NOT_ALLOWED = "transition_not_allowed"
    # The row was no longer in the state the caller saw: a concurrent transition won.
    STALE = "transition_stale"
    # The table allows it, but the app's own rule refuses it now (e.g. cancel requested).
    REFUSED = "transition_refused"

    def __init__(
        self,
        message: str = "",
        *,
        code: str = REFUSED,
        machine: str = "",
        pk: Any = None,
        from_state: str = "",
        to_state: str = "",
        found: str | None = None,
    ) -> None:
        super().__init__(message or f"{machine} {pk}: {from_state} -> {to_state} ({code})")
        self.code = code
        self.machine = machine
        self.pk = pk
        self.from_state = from_state
        self.to_state = to_state
        self.found = found


@dataclass(frozen=True)
class StateMachine:
    """One model's table of allowed transitions and the push that follows each one."""

    name: str
    model: type[models.Model]
    allowed: Mapping[str, frozenset[str]]
    # Called with the moved instance after every transition (apps push on commit).
    push: Callable[[Any], None] | None = None
    field: str = "status"

    def allows(self, current: str, to: str) -> bool:
        return to in self.allowed.get(current, frozenset())

    def check(self, obj: models.Model, to: str) -> None:
        """Raise IllegalTransition (NOT_ALLOWED) unless the table allows obj's state -> to."""
        self._check(obj.pk, getattr(obj, self.field), to)

    def _check(self, pk: Any, current: str, to: str) -> None:
        if not self.allows(current, to):
            raise IllegalTransition(
                f"{self.name} {pk}: {current} -> {to} is not allowed",
                code=IllegalTransition.NOT_ALLOWED,
                machine=self.name,
                pk=pk,
                from_state=current,
                to_state=to,
            )

    def transition(
        self, obj: models.Model, to: str, *, from_state: str | None = None, **fields: Any
    ) -> bool:
        """Move `obj` from the state it holds (or `from_state`, for a step that only starts
        from one state) to `to`, writing `fields` in the same UPDATE.

        Raises IllegalTransition (NOT_ALLOWED) when the table forbids the change. Returns
        False when the row was no longer in that state (a concurrent transition won: the
        UPDATE matched no row; nothing is written and `obj` is refreshed, unless the row
        is gone). On True, `obj` carries the new state and fields and has been pushed."""
        current = getattr(obj, self.field) if from_state is None else from_state
        self._check(obj.pk, current, to)
        if _has_field(self.model, "updated_at"):
            # A queryset update skips auto_now, so the row's clock is set here.
            fields.setdefault("updated_at", timezone.now())
        updated = self.model._default_manager.filter(pk=obj.pk, **{self.field: current}).update(
            **{self.field: to}, **fields
        )
        if not updated:
            try:
                obj.refresh_from_db()
            except self.model.DoesNotExist:
                pass
            return False
        for name, value in fields.items():
            setattr(obj, name, value)
        setattr(obj, self.field, to)
        if self.push is not None:
            self.push(obj)
        return True

    def transition_or_raise(
        self, obj: models.Model, to: str, *, from_state: str | None = None, **fields: Any
    ) -> models.Model:
        """`transition`, with a lost race raised as IllegalTransition (STALE, `found` set)."""
        current = getattr(obj, self.field) if from_state is None else from_state
        if self.transition(obj, to, from_state=current, **fields):
            return obj
        found = self.model._default_manager.filter(pk=obj.pk).values_list(self.field, flat=True)
        state = found.first()
        raise IllegalTransition(
            f"{self.name} {obj.pk}: expected {current}, found {state}",
            code=IllegalTransition.STALE,
            machine=self.name,
            pk=obj.pk,
            from_state=current,
            to_state=to,
            found=state,
        )


def _has_field(model: type[models.Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True
