"""Who may change the catalogue: identities, roles and the permission check of every write.

Every write function of :class:`store.api.Store` takes an :class:`Identity` and calls
:func:`writer` (or :func:`may_undo`) before it writes anything, so a page that forgets
to hide a button still cannot write as a viewer or as nobody. The revision's author is
the identity's name.

Roles: ``viewer`` reads; ``analyst`` also adds, edits, retires, imports, restores and
undoes their own batches; ``admin`` also undoes anyone's batch and manages accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.errors import StoreError

ROLES = ("viewer", "analyst", "admin")
WRITER_ROLES = ("analyst", "admin")
# The catalogue files' own author (python -m store init) and the import preview's: no
# person may write under these names, or a catalogue sync would take their edits for its own.
RESERVED_NAMES = ("catalogue", "preview")


class PermissionDenied(StoreError):
    """A write by someone whose role does not allow it (or by nobody); nothing was written."""


@dataclass(frozen=True)
class Identity:
    """A signed-in person (or the command line): a name and a role.

    ``via`` says how the name was established: ``local`` (an account in the store),
    ``oidc`` (Streamlit's OpenID Connect sign-in), ``proxy`` (a trusted header) or
    ``command line`` (whoever can run ``python -m store`` can reach the database anyway).
    """

    name: str
    role: str
    via: str = "local"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {self.role!r}")

    @property
    def can_write(self) -> bool:
        return self.role in WRITER_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def command_line(name: str) -> Identity:
    """The identity of ``python -m store import/undo --author NAME``.

    Running the command line needs the database's URL (its file or credentials), which
    is already every power over the store; so it writes as an admin under the given name.
    """
    return Identity(name, "admin", via="command line")


def writer(identity: Identity | None, action: str) -> str:
    """The author name for a write, or :class:`PermissionDenied` for a viewer or nobody."""
    if identity is None or not isinstance(identity, Identity):
        raise PermissionDenied(f"sign in as an analyst to {action}; nothing was written")
    if identity.name.strip().casefold() in RESERVED_NAMES:
        raise PermissionDenied(f"the name {identity.name!r} is reserved for the store itself; nothing was written")
    if not identity.can_write:
        raise PermissionDenied(
            f"{identity.name} is a {identity.role}: only analysts and admins may {action}; nothing was written"
        )
    return identity.name


def admin(identity: Identity | None, action: str) -> str:
    """The admin's name, or :class:`PermissionDenied`: managing accounts is for admins."""
    if identity is None or not isinstance(identity, Identity) or not identity.is_admin:
        raise PermissionDenied(f"only an admin may {action}; nothing was changed")
    return identity.name


def may_undo(identity: Identity | None, batch_author: str, batch_id: int) -> str:
    """The author name for undoing a batch: analysts their own batches, admins any."""
    name = writer(identity, f"undo batch {batch_id}")
    if not identity.is_admin and batch_author != identity.name:  # type: ignore[union-attr]
        raise PermissionDenied(
            f"batch {batch_id} is by {batch_author}: an analyst may undo only their own batches "
            "(an admin may undo any); nothing was written"
        )
    return name


def mapped_role(mapping, email: str | None, groups=(), default: str = "viewer") -> str:
    """The role of an identity from a team's provider: its address, else its groups, else ``default``.

    ``mapping`` is a sequence of (key, role) with keys in lower case: an e-mail address,
    or ``group:NAME``. When several apply, the highest role wins.
    """
    wanted = set()
    if email:
        wanted.add(email.strip().casefold())
    wanted.update("group:" + g.strip().casefold() for g in groups or () if g and g.strip())
    found = [role for key, role in mapping if key in wanted]
    if not found:
        return default
    return max(found, key=ROLES.index)
