"""Generation providers. Use `get_provider(name)`; every provider implements base.Provider."""

from .registry import get_provider, provider_for_model

__all__ = ["get_provider", "provider_for_model"]
