"""Basic admin for oversight (issue 8 extends it with filters, actions and totals)."""

from django.contrib import admin

from . import catalog
from .admin_budgets import register_user_budget_inline
from .admin_jobs import GenerationJobAdmin
from .models import ApiToken, GenerationBudget, GenerationJob, PromptTemplate, ProviderPrice
from .services.prices import reference_figure

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


@admin.register(ProviderPrice)
class ProviderPriceAdmin(admin.ModelAdmin):
    """What the providers' pricing APIs report, beside the catalog figure it is checked
    against; a change shows the old figure and when it changed."""

    list_display = (
        "endpoint",
        "models",
        "unit_price",
        "unit",
        "previous_unit_price",
        "changed_at",
        "catalog_figure",
        "estimates_follow",
        "checked_at",
    )
    list_filter = ("provider", "unit")
    search_fields = ("endpoint",)
    ordering = ("-changed_at", "endpoint")
    readonly_fields = [f.name for f in ProviderPrice._meta.fields]

    def has_add_permission(self, request):
        return False  # written by the daily refresh only

    @admin.display(description="catalog models")
    def models(self, obj):
        return ", ".join(m.id for m in catalog.all_models() if m.endpoint == obj.endpoint)

    @admin.display(description="catalog figure")
    def catalog_figure(self, obj):
        figures = []
        for spec in catalog.all_models():
            if spec.endpoint == obj.endpoint:
                figure = reference_figure(catalog.price_rule(spec), obj.unit)
                figures.append("—" if figure is None else f"{figure.normalize():f}")
        return ", ".join(figures) or "—"

    @admin.display(description="estimates", boolean=False)
    def estimates_follow(self, obj):
        for spec in catalog.all_models():
            if spec.endpoint == obj.endpoint:
                figure = reference_figure(catalog.price_rule(spec), obj.unit)
                if figure is None:
                    return "unit differs: catalog kept"
                if obj.unit_price > figure:
                    return "raised to provider price"
                if obj.unit_price < figure:
                    return "lower: adopt with GENERATION_PRICE_OVERRIDES"
                return "match"
        return "not in catalog"
