"""The creator's prompt templates: browse and search the built-ins, save and delete own."""

from __future__ import annotations

from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from generation import prompt_templates
from generation.forms import SaveTemplateForm
from generation.models import PromptTemplate
from generation.validation import clean_text

MY_TEMPLATES = "Mine"


def templates_context(
    request, *, category: str = "", query: str = "", message: str = "", form=None
) -> dict:
    """The prompt-templates list for a category and search (the panel renders it too)."""
    category = category if category in (*prompt_templates.CATEGORIES, MY_TEMPLATES) else ""
    # Cleaned like a saved prompt: a NUL in the search box is a DataError in PostgreSQL.
    query = clean_text(query, 100)
    builtins = (
        [] if category == MY_TEMPLATES else prompt_templates.search(category=category, query=query)
    )
    mine = PromptTemplate.objects.filter(owner=request.user)
    if category and category != MY_TEMPLATES:
        mine = mine.none()
    for word in query.split()[:8]:
        mine = mine.filter(Q(title__icontains=word) | Q(prompt__icontains=word))
    return {
        "categories": prompt_templates.CATEGORIES,
        "my_category": MY_TEMPLATES,
        "category": category,
        "query": query,
        "builtins": builtins,
        "mine": list(mine[:50]),
        "tpl_message": message,
        "tpl_form": form,
    }


@require_GET
def template_list(request):
    context = templates_context(
        request, category=request.GET.get("category", ""), query=request.GET.get("q", "")
    )
    return render(request, "generation/partials/template_list.html", context)


@require_POST
def template_save(request):
    form = SaveTemplateForm(request.POST)
    if not form.is_valid():
        context = templates_context(request, form=form)
        return render(request, "generation/partials/template_list.html", context, status=422)
    PromptTemplate.objects.create(owner=request.user, **form.cleaned_data)
    context = templates_context(
        request, category=MY_TEMPLATES, message=f"Saved “{form.cleaned_data['title']}”."
    )
    return render(request, "generation/partials/template_list.html", context)


@require_POST
def template_delete(request, template_id: int):
    template = get_object_or_404(PromptTemplate, pk=template_id, owner=request.user)
    title = template.title
    template.delete()
    context = templates_context(request, category=MY_TEMPLATES, message=f"Deleted “{title}”.")
    return render(request, "generation/partials/template_list.html", context)
