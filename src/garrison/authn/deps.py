"""Dependencies of the authentication core: the hasher and the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from garrison.authn.authenticators import ready, subject_of
from garrison.authn.errors import InvalidToken
from garrison.authn.passwords import PasswordHasher
from garrison.authn.subject import Principal
from garrison.deps import provide

# A user with a valid access token whose session is active (RFC 6750 errors otherwise).
authenticate = subject_of(Principal, unrecognised=InvalidToken)
# The same, refusing a user who must change their password first.
authenticate_ready = ready(authenticate)

# A caller with a valid token whose session is active; refused while a password change is pending.
CurrentPrincipal = Annotated[Principal, Depends(authenticate_ready)]
# The same, but also admits a caller who must change their password (to let them do so).
PendingPrincipal = Annotated[Principal, Depends(authenticate)]
Hasher = Annotated[PasswordHasher, Depends(provide(PasswordHasher))]
