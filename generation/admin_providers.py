"""The admin page that lists the hosted providers, whether each is configured, and tests
one provider's connection on request (GenerationJobAdmin serves it at providers/)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.template.response import TemplateResponse

from .connection import HOSTED, comfyui_server_health, provider_test_connection


def provider_connections_page(model_admin, request):
    """GET lists the hosted providers and the ComfyUI servers (what the cache knows of
    them); POST with `provider` also tests that connection (`comfyui`: asks every server
    for its queue and GPUs). Superusers only (GenerationJobAdmin serves it at providers/)."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if not request.user.is_superuser:
        raise PermissionDenied
    from . import catalog
    from .checks import key_format_problem

    results = {}
    if request.method == "POST" and request.POST.get("provider") in HOSTED:
        name = request.POST["provider"]
        results[name] = provider_test_connection(provider=name)
    check_comfyui = request.method == "POST" and request.POST.get("provider") == "comfyui"
    comfyui_configured, comfyui_reason = catalog.provider_configured("comfyui")
    rows = []
    for name in HOSTED:
        setting = catalog.PROVIDER_KEYS[name][0]
        configured, reason = catalog.provider_configured(name)
        rows.append(
            {
                "name": name,
                "setting": setting,
                "configured": configured,
                "reason": reason,
                "format_problem": key_format_problem(setting, getattr(settings, setting)),
                "result": results.get(name),
            }
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Provider connections",
        "rows": rows,
        "comfyui": {
            "configured": comfyui_configured,
            "reason": comfyui_reason,
            "checked": check_comfyui,
            "servers": comfyui_server_health(check=check_comfyui) if comfyui_configured else [],
        },
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/generation/provider_connections.html", context)
