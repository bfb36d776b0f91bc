"""Admin oversight of generation: jobs (filters, spend totals, cancel / retry / re-poll
through the pipeline's services), per-user budgets and limits, provider connection tests.

Every value that came from a user (prompts, titles, usernames) is rendered through
format_html or the admin's own autoescaping; nothing here uses mark_safe.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin, messages
from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from .admin_providers import provider_connections_page
from .limits import LimitExceeded
from .models import GenerationJob, JobStatus
from .services import IllegalTransition, JobInvalid, job_cancel, job_retry, job_webhook_received

MONEY = DecimalField(max_digits=12, decimal_places=4)
ZERO = Value(Decimal("0"), output_field=MONEY)
END_STAMPS = ("succeeded_at", "failed_at", "cancelled_at")


def run_seconds(job: GenerationJob) -> float | None:
    """From the provider starting the work (or the submit) to the job settling."""
    start = job.running_at or job.in_queue_at or job.submitting_at
    end = next((getattr(job, name) for name in END_STAMPS if getattr(job, name)), None)
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def spend_totals(queryset) -> dict:
    """Spend of the (filtered) jobs per user and per model. Spent means settled: the
    actual cost when the provider reported one, else the estimate, for succeeded jobs."""
    spent = Coalesce(
        Sum(Coalesce("actual_cost", "estimated_cost"), filter=Q(status=JobStatus.SUCCEEDED)),
        ZERO,
    )
    aggregates = {
        "jobs": Count("id"),
        "succeeded": Count("id", filter=Q(status=JobStatus.SUCCEEDED)),
        "estimated": Coalesce(Sum("estimated_cost"), ZERO),
        "spent": spent,
    }
    base = queryset.order_by()
    return {
        "overall": base.aggregate(**aggregates),
        "by_user": list(
            base.values("owner__username").annotate(**aggregates).order_by("-spent", "-jobs")[:50]
        ),
        "by_model": list(
            base.values("model_id").annotate(**aggregates).order_by("-spent", "-jobs")[:50]
        ),
    }


class GenerationJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "model_id",
        "provider",
        "status",
        "short_prompt",
        "estimated_cost",
        "actual_cost",
        "run_duration",
        "created_at",
    )
    list_filter = ("status", "provider", "model_id", ("owner", admin.RelatedOnlyFieldListFilter))
    date_hierarchy = "created_at"
    search_fields = ("prompt", "provider_request_id")
    list_select_related = ("owner",)
    raw_id_fields = ("owner", "media_item", "retry_of")
    actions = ("cancel_jobs", "retry_jobs", "repoll_jobs")
    # The pipeline owns every state field; admins read them (changes go through services).
    readonly_fields = [
        *(f.name for f in GenerationJob._meta.fields if f.name not in ("id",)),
        "run_duration",
        "provider_detail_block",
        "logs_tail_block",
        "provider_handle_block",
    ]
    fieldsets = (
        (
            None,
            {"fields": ("owner", "model_id", "provider", "status", "prompt", "negative_prompt")},
        ),
        ("Cost", {"fields": ("estimated_cost", "actual_cost", "reserved_cost")}),
        (
            "Progress",
            {
                "fields": (
                    "progress",
                    "progress_estimated",
                    "queue_position",
                    "eta_at",
                    "attempts",
                    "step_errors",
                    "cancel_requested",
                    "run_duration",
                )
            },
        ),
        (
            "Provider",
            {
                "fields": (
                    "provider_request_id",
                    "provider_handle_block",
                    "error_code",
                    "error_message",
                    "provider_detail_block",
                    "logs_tail_block",
                )
            },
        ),
        ("Result", {"fields": ("media_item", "retry_of", "params")}),
        (
            "Timeline",
            {
                "classes": ("collapse",),
                "fields": (
                    "created_at",
                    "updated_at",
                    "submitting_at",
                    "in_queue_at",
                    "running_at",
                    "downloading_at",
                    "succeeded_at",
                    "failed_at",
                    "cancelled_at",
                    "next_poll_at",
                    "poll_seq",
                    "lease_until",
                ),
            },
        ),
    )

    def has_add_permission(self, request):
        return False

    # --- columns -----------------------------------------------------------------------
    @admin.display(description="prompt")
    def short_prompt(self, job):
        return Truncator(job.prompt).chars(60)

    @admin.display(description="run time")
    def run_duration(self, job):
        seconds = run_seconds(job)
        if seconds is None:
            return "–"
        minutes, rest = divmod(int(round(seconds)), 60)
        return f"{minutes}:{rest:02d}"

    def _pre(self, text):
        if not text:
            return "–"
        return format_html('<pre style="white-space: pre-wrap; max-width: 60em">{}</pre>', text)

    @admin.display(description="provider detail")
    def provider_detail_block(self, job):
        return self._pre(job.provider_detail)

    @admin.display(description="logs (tail)")
    def logs_tail_block(self, job):
        return self._pre(job.logs_tail)

    @admin.display(description="provider handle")
    def provider_handle_block(self, job):
        import json

        return self._pre(json.dumps(job.provider_handle, indent=2, sort_keys=True))

    # --- totals --------------------------------------------------------------------------
    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            context["spend_totals"] = spend_totals(context["cl"].queryset)
            context["providers_url"] = reverse("admin:generation_provider_connections")
        return response

    # --- actions (through the pipeline's services) ---------------------------------------
    def _report(self, request, done: int, verb: str, problems: list[str]) -> None:
        if done:
            self.message_user(request, f"{verb} {done} job(s).", messages.SUCCESS)
        for problem in problems[:20]:
            self.message_user(request, problem, messages.WARNING)

    @admin.action(description="Cancel selected jobs", permissions=["change"])
    def cancel_jobs(self, request, queryset):
        done, problems = 0, []
        for job in queryset:
            try:
                job_cancel(job=job)
                done += 1
            except IllegalTransition:
                problems.append(f"Job {job.pk} is already {job.get_status_display().lower()}.")
        self._report(request, done, "Cancelled", problems)

    @admin.action(description="Retry selected jobs (as their owner)", permissions=["change"])
    def retry_jobs(self, request, queryset):
        done, problems = 0, []
        for job in queryset.select_related("owner"):
            try:
                job_retry(job=job, user=job.owner)
                done += 1
            except IllegalTransition:
                problems.append(f"Job {job.pk}: only failed or cancelled jobs can be retried.")
            except LimitExceeded as exc:
                problems.append(f"Job {job.pk}: {exc.message}")
            except JobInvalid as exc:
                problems.append(f"Job {job.pk}: " + "; ".join(exc.errors.values()))
        self._report(request, done, "Retried", problems)

    @admin.action(description="Re-poll the provider now", permissions=["change"])
    def repoll_jobs(self, request, queryset):
        done, problems = 0, []
        for job in queryset:
            if job_webhook_received(job=job):
                done += 1
            else:
                problems.append(
                    f"Job {job.pk} ({job.get_status_display().lower()}, {job.provider}) is not "
                    "waiting on a hosted provider, so there is nothing to poll."
                )
        self._report(request, done, "Scheduled a status call for", problems)

    # --- provider connections ---------------------------------------------------------------
    def get_urls(self):
        return [
            path(
                "providers/",
                self.admin_site.admin_view(self.provider_connections_view),
                name="generation_provider_connections",
            ),
            *super().get_urls(),
        ]

    def provider_connections_view(self, request):
        return provider_connections_page(self, request)
