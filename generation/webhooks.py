"""Provider callbacks: /generation/webhooks/<provider>/<job token>/.

Two factors authenticate a webhook: the per-job secret in the URL (a wrong provider or
token is a 404) and the provider's signature over the raw body (fal ED25519, Replicate
Standard Webhooks — providers/signatures.py): a bad or missing signature, or a timestamp
more than WEBHOOK_TOLERANCE_S off (a replay), is a 401. Neither changes anything. Even a verified body is not trusted for the result: a webhook only makes
the job's next status call happen now, so duplicate and late deliveries are harmless.
A signature stays valid for WEBHOOK_TOLERANCE_S, so a captured webhook can be replayed:
job_webhook_received allows one webhook-triggered status call per job per
WEBHOOK_POLL_MIN_INTERVAL_S (the answer is 200 at once either way).

The token is a secret in the URL: project.logging redacts it from every log line.
"""

from __future__ import annotations

import logging

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import GenerationJob
from .providers.signatures import WebhookRefused, verify_webhook
from .services.polling import job_webhook_received

PROVIDERS_WITH_WEBHOOKS = ("fal", "replicate")
logger = logging.getLogger("generation.webhooks")


@csrf_exempt
@require_POST
def provider_webhook(request, provider: str, token: str):
    if provider not in PROVIDERS_WITH_WEBHOOKS or len(token) > 64:
        raise Http404
    # The token first: a guessed URL costs one indexed lookup, never a key fetch.
    job = GenerationJob.objects.filter(provider=provider, webhook_token=token).first()
    if job is None:
        raise Http404
    try:
        verify_webhook(provider, request.headers, request.body)
    except WebhookRefused as refused:
        logger.warning(
            "webhook refused",
            extra={"provider": provider, "job_id": job.pk, "reason": refused.reason},
        )
        return JsonResponse(
            {"error": "unauthenticated", "detail": "The webhook signature did not verify."},
            status=401,
        )
    polled = job_webhook_received(job=job)
    return JsonResponse({"ok": True, "polled": polled})
