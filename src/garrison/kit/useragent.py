"""A short, human label for a device from its User-Agent header ("Firefox 128 on Linux")."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse


@lru_cache(maxsize=4096)
def device_label(user_agent: str | None) -> str | None:
    if not user_agent:
        return None
    result = parse(user_agent[:512])
    browser = result.user_agent.family if result.user_agent else None
    if browser and result.user_agent and result.user_agent.major:
        browser = f"{browser} {result.user_agent.major}"
    system = result.os.family if result.os else None
    if browser and system:
        return f"{browser} on {system}"[:128]
    return (browser or system or "Unknown device")[:128]
