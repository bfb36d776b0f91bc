"""Basic admin for oversight (issue 8 extends it with filters, actions and totals)."""

from django.contrib import admin

from .admin_jobs import GenerationJobAdmin, register_user_budget_inline
from .models import ApiToken, GenerationBudget, GenerationJob, PromptTemplate

# The oversight admin (filters, totals, actions, provider tests) lives in admin_jobs.
admin.site.register(GenerationJob, GenerationJobAdmin)
register_user_budget_inline()


@admin.register(GenerationBudget)
class GenerationBudgetAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "monthly_limit_usd",
        "rate_per_minute",
        "cooldown_s",
        "max_concurrent",
        "month",
        "spent_usd",
        "reserved_usd",
    )
    raw_id_fields = ("user",)
    readonly_fields = ("month", "spent_usd", "reserved_usd", "last_created_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    raw_id_fields = ("user",)
    readonly_fields = ("prefix", "token_hash", "created_at", "last_used_at")


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "created_at")
    raw_id_fields = ("owner",)
