"""Provider callbacks: /generation/webhooks/<provider>/<job token>/.

The per-job secret in the URL is the authentication (providers cannot send our session or
a header we choose). A wrong provider or token is a 404 and changes nothing. The body is
not trusted: a webhook only makes the job's next status call happen now, so duplicate and
late deliveries are harmless.
"""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import GenerationJob
from .services.polling import job_webhook_received

PROVIDERS_WITH_WEBHOOKS = ("fal", "replicate")


@csrf_exempt
@require_POST
def provider_webhook(request, provider: str, token: str):
    if provider not in PROVIDERS_WITH_WEBHOOKS or len(token) > 64:
        raise Http404
    job = GenerationJob.objects.filter(provider=provider, webhook_token=token).first()
    if job is None:
        raise Http404
    polled = job_webhook_received(job=job)
    return JsonResponse({"ok": True, "polled": polled})
