from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def workspace(request):
    """The editor frame. Each panel loads its own fragment from its app (hx-get on load
    and again on every live re-sync), so apps stay independent of each other."""
    return render(request, "workspace.html")


@login_required
def editor_panel(request):
    return render(request, "editor/partials/editor_panel.html")
