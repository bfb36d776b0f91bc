"""Basic admin for oversight (issue 8 extends it with filters, actions and totals)."""

from django.contrib import admin

from .models import ApiToken, GenerationBudget, GenerationJob, PromptTemplate


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "model_id",
        "status",
        "estimated_cost",
        "actual_cost",
        "created_at",
    )
    list_filter = ("status", "provider", "model_id")
    search_fields = ("prompt", "provider_request_id")
    raw_id_fields = ("owner", "media_item", "retry_of")
    # The pipeline owns every state field; admins read them (changes go through services).
    readonly_fields = [f.name for f in GenerationJob._meta.fields if f.name not in ("id",)]

    def has_add_permission(self, request):
        return False


@admin.register(GenerationBudget)
class GenerationBudgetAdmin(admin.ModelAdmin):
    list_display = ("user", "monthly_limit_usd", "month", "spent_usd", "reserved_usd")
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
