"""Per-user generation budgets and limits, edited inline on the user's admin page.

Every value that came from a user is rendered through the admin's own autoescaping."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from project.money import usd

from .limits import budget_remaining
from .models import GenerationBudget


class GenerationBudgetInline(admin.StackedInline):
    model = GenerationBudget
    can_delete = False
    fields = (
        "monthly_limit_usd",
        "rate_per_minute",
        "cooldown_s",
        "max_concurrent",
        "month",
        "spent_usd",
        "reserved_usd",
        "remaining",
    )
    readonly_fields = ("month", "spent_usd", "reserved_usd", "remaining")
    verbose_name_plural = "Generation budget and limits (blank: the site default applies)"

    @admin.display(description="remaining this month")
    def remaining(self, budget):
        if budget.pk is None:
            return "–"
        return usd(budget_remaining(budget.user))


def register_user_budget_inline(site=admin.site) -> None:
    """Budgets and limits editable on the user's own admin page."""
    user_model = get_user_model()
    current = site._registry.get(user_model)
    base = type(current) if current is not None else UserAdmin
    if GenerationBudgetInline in getattr(base, "inlines", ()):
        return
    if current is not None:
        site.unregister(user_model)
    site.register(
        user_model,
        type("UserWithBudgetAdmin", (base,), {"inlines": (*base.inlines, GenerationBudgetInline)}),
    )
