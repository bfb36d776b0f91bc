"""API tokens page (user menu): create a named token (shown once), see last use, revoke."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .models import ApiToken
from .services.tokens import api_token_create, api_token_revoke
from .validation import clean_text


def _tokens_for(user):
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


@login_required
def token_list(request):
    return render(request, "generation/tokens.html", {"tokens": _tokens_for(request.user)})


@login_required
@require_POST
def token_create(request):
    name = clean_text(request.POST.get("name", ""), 100)
    if not name:
        return render(
            request,
            "generation/tokens.html",
            {
                "tokens": _tokens_for(request.user),
                "name_error": "Give the token a name, such as the script that uses it.",
            },
            status=400,
        )
    token, raw = api_token_create(user=request.user, name=name)
    # Shown exactly once, in this response; only its hash is stored.
    return render(
        request,
        "generation/tokens.html",
        {"tokens": _tokens_for(request.user), "new_token": raw, "new_token_obj": token},
    )


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user, revoked_at__isnull=True)
    api_token_revoke(token=token)
    return redirect("generation:tokens")
