"""The extension's settings, kept in LibreOffice's configuration (registry/PlumeSettings.xcs).

Because they live in the configuration, IT can preset them and lock them (oor:finalized) in a shared
layer or through Windows policies; a locked value shows read-only in the options page.
"""

from __future__ import annotations

from dataclasses import dataclass

from com.sun.star.beans import PropertyValue

NODE = "/ch.lelocle.plume.Settings/Server"
KEYS = ("ServerURL", "Token", "Language", "ReviewMode")
REVIEW_MODES = ("tracked", "replace", "after")
READONLY = 16  # com.sun.star.beans.PropertyAttribute.READONLY


@dataclass
class Settings:
    server_url: str = "http://127.0.0.1:8000"
    token: str = ""
    language: str = "fr"
    review_mode: str = "tracked"  # tracked | replace | after


def _access(ctx, update: bool):
    provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    arg = PropertyValue()
    arg.Name, arg.Value = "nodepath", NODE
    service = "com.sun.star.configuration.ConfigurationUpdateAccess" if update else \
        "com.sun.star.configuration.ConfigurationAccess"
    return provider.createInstanceWithArguments(service, (arg,))


def load(ctx) -> Settings:
    node = _access(ctx, update=False)
    language = (node.getByName("Language") or "fr").strip().lower()
    return Settings(server_url=(node.getByName("ServerURL") or "").strip() or Settings.server_url,
                    token=(node.getByName("Token") or "").strip(),
                    language=language if language in ("fr", "de") else "fr",
                    review_mode=_review_mode(node))


def _review_mode(node) -> str:
    mode = (node.getByName("ReviewMode") or "").strip().lower()
    return mode if mode in REVIEW_MODES else "tracked"


def locked(ctx) -> set[str]:
    """The keys IT has finalized: they cannot be changed from the options page."""
    node = _access(ctx, update=True)
    info = node.getPropertySetInfo()
    return {key for key in KEYS if info.getPropertyByName(key).Attributes & READONLY}


def save(ctx, values: Settings) -> None:
    node = _access(ctx, update=True)
    frozen = locked(ctx)
    for key, value in (("ServerURL", values.server_url), ("Token", values.token), ("Language", values.language),
                       ("ReviewMode", values.review_mode)):
        if key not in frozen:
            node.replaceByName(key, value)
    node.commitChanges()


def language(ctx) -> str:
    try:
        return load(ctx).language
    except Exception:  # configuration not readable: fall back to French
        return "fr"


def review_mode(ctx) -> str:
    try:
        return load(ctx).review_mode
    except Exception:  # configuration not readable: the safest, tracked changes
        return "tracked"

