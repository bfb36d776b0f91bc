from django.shortcuts import render


def panel(request):
    return render(request, "media_library/partials/panel.html")
