"""get_provider("fal" | "replicate" | "local") -> a Provider instance.

Providers hold no state between calls (settings are read on every call, so tests can
point them at an emulator with override_settings), so one instance each is shared.
"""

from __future__ import annotations

from functools import cache

from .base import Provider


@cache
def get_provider(name: str) -> Provider:
    if name == "fal":
        from .fal import FalProvider

        return FalProvider()
    if name == "replicate":
        from .replicate import ReplicateProvider

        return ReplicateProvider()
    if name == "local":
        from .local import LocalProvider

        return LocalProvider()
    raise KeyError(f"unknown provider {name!r}")


def provider_for_model(model_id: str) -> Provider:
    from generation import catalog

    return get_provider(catalog.get(model_id).provider)
