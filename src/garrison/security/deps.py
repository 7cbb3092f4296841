"""Dependencies of abuse protection: the rate limiter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from garrison.deps import provide
from garrison.security.ratelimit import RateLimiter

Limiter = Annotated[RateLimiter, Depends(provide(RateLimiter))]
