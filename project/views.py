from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health


@never_cache
@require_GET
def healthz(request):
    checks = {
        "database": health.check_database(),
        "redis": health.check_redis(),
        "worker": health.check_workers(),
    }
    body = {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}
    healthy = all(ok for ok, _ in checks.values())
    body["status"] = "ok" if healthy else "down"
    return JsonResponse(body, status=200 if healthy else 503)
