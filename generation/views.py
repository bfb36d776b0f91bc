from django.shortcuts import render


def panel(request):
    return render(request, "generation/partials/panel.html")
