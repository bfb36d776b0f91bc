"""get_provider("fal" | "replicate" | "comfyui" | "local") -> a Provider instance.

Providers hold no state between calls (settings are read on every call, so tests can
point them at an emulator with override_settings), so one instance each is shared.

The registry is the one place a provider is resolved: `register` swaps an entry (tests put
a scripted provider here for the length of a test) so no caller needs patching.
"""

from __future__ import annotations

from .base import Provider

# Filled lazily: building a provider imports its module, which the others never need.
_providers: dict[str, Provider] = {}


def _build(name: str) -> Provider:
    if name == "fal":
        from .fal import FalProvider

        return FalProvider()
    if name == "replicate":
        from .replicate import ReplicateProvider

        return ReplicateProvider()
    if name == "local":
        from .local import LocalProvider

        return LocalProvider()
    if name == "comfyui":
        from .comfyui import ComfyUIProvider

        return ComfyUIProvider()
    raise KeyError(f"unknown provider {name!r}")


def get_provider(name: str) -> Provider:
    provider = _providers.get(name)
    if provider is None:
        # Two threads may both build one; providers are stateless, so either copy serves.
        provider = _providers.setdefault(name, _build(name))
    return provider


def register(name: str, provider: Provider | None) -> Provider | None:
    """Make `get_provider(name)` answer `provider` (None: drop the entry, so the built-in
    provider is built again on the next call). Returns the entry it replaced, for restoring."""
    previous = _providers.pop(name, None)
    if provider is not None:
        _providers[name] = provider
    return previous


def provider_for_model(model_id: str) -> Provider:
    from generation import catalog

    return get_provider(catalog.get(model_id).provider)
