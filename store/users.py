"""Local accounts kept in the store: Argon2id passwords, throttled sign-in, sessions, the log.

``python -m store users ...`` manages the accounts; the app's sign-in form calls
:func:`sign_in`. A refused sign-in always says the same thing, whether the name is
unknown, the password wrong or the account disabled; after
:data:`ACCOUNT_FAILURE_LIMIT` failures for a name (known or not) or
:data:`CLIENT_FAILURE_LIMIT` from one client address, every attempt waits for a
window that doubles with each further failure (recorded in the store, so it holds
across sessions, reloads and server restarts).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from store.access import RESERVED_NAMES, ROLES, Identity, admin
from store.errors import StoreError
from store.schema import accounts, sign_in_throttle, sign_ins, web_sessions

ACCOUNT_FAILURE_LIMIT = 5
CLIENT_FAILURE_LIMIT = 10
FIRST_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 15 * 60
FORGET_FAILURES_AFTER = dt.timedelta(hours=24)
MIN_PASSWORD = 10
MAX_PASSWORD = 1024

REFUSED = "Sign-in refused: the name or the password is wrong, or the account is disabled."

_HASHER = PasswordHasher()  # Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile)
# Verified against when the name is unknown, so an unknown name costs the same time as a known one.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class SignInRefused(StoreError):
    """A sign-in that failed or must wait; ``retry_after`` seconds when throttled."""

    def __init__(self, message: str, retry_after: int = 0):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    disabled: bool
    created_at: dt.datetime
    changed_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise StoreError("an account name is 1 to 120 characters on one line")
    if name.casefold() in RESERVED_NAMES:
        raise StoreError(f"the name {name!r} is reserved for the store itself; choose another")
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise StoreError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise StoreError(f"a password has at most {MAX_PASSWORD} characters")
    return password


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    return role


# --- accounts (the command line) -------------------------------------------------------

def add_account(store, name: str, role: str, password: str, *, by: Identity) -> Account:
    admin(by, "add accounts")
    name, role, password = check_name(name), _check_role(role), check_password(password)
    digest = _HASHER.hash(password)
    now = _now()
    with store._writer.begin() as connection:
        if connection.execute(sa.select(accounts.c.name).where(sa.func.lower(accounts.c.name) == name.lower())).first():
            raise StoreError(f"an account named {name!r} exists already; use set-password or choose another name")
        connection.execute(sa.insert(accounts).values(name=name, role=role, password_hash=digest, disabled=False,
                                                      created_at=now, changed_at=now))
    return Account(name, role, False, now, now)


def _existing(connection: sa.Connection, name: str) -> sa.Row:
    row = connection.execute(sa.select(accounts).where(accounts.c.name == name)).first()
    if row is None:
        raise StoreError(f"no account named {name!r}")
    return row


def set_password(store, name: str, password: str, *, by: Identity) -> None:
    """A new password (which also ends the account's open sessions and clears its throttle)."""
    admin(by, "set passwords")
    password = check_password(password)
    digest = _HASHER.hash(password)
    with store._writer.begin() as connection:
        _existing(connection, name)
        connection.execute(sa.update(accounts).where(accounts.c.name == name).values(password_hash=digest, changed_at=_now()))
        _end_sessions(connection, name)
        connection.execute(sa.delete(sign_in_throttle).where(sign_in_throttle.c.key == _account_key(name)))


def set_role(store, name: str, role: str, *, by: Identity) -> None:
    admin(by, "change roles")
    role = _check_role(role)
    with store._writer.begin() as connection:
        _existing(connection, name)
        connection.execute(sa.update(accounts).where(accounts.c.name == name).values(role=role, changed_at=_now()))


def set_disabled(store, name: str, disabled: bool = True, *, by: Identity) -> None:
    """Disable (or enable again) an account; disabling ends its open sessions at once."""
    admin(by, "disable or enable accounts")
    with store._writer.begin() as connection:
        _existing(connection, name)
        connection.execute(sa.update(accounts).where(accounts.c.name == name).values(disabled=disabled, changed_at=_now()))
        if disabled:
            _end_sessions(connection, name)


def list_accounts(store) -> list[Account]:
    with store._reader.connect() as connection:
        rows = connection.execute(sa.select(accounts).order_by(accounts.c.name)).all()
    return [Account(r.name, r.role, bool(r.disabled), _utc(r.created_at), _utc(r.changed_at)) for r in rows]


def account(store, name: str) -> Account | None:
    return next((a for a in list_accounts(store) if a.name == name), None)


# --- signing in ---------------------------------------------------------------------------

def _account_key(name: str) -> str:
    return "account:" + (name or "").strip().casefold()[:180]


def _client_key(client: str) -> str:
    return "client:" + (client or "unknown")[:180]


def _lock_seconds(failures: int, limit: int) -> int:
    if failures < limit:
        return 0
    return min(FIRST_LOCK_SECONDS * 2 ** (failures - limit), MAX_LOCK_SECONDS)


def _wait(connection: sa.Connection, keys: list[str], now: dt.datetime) -> int:
    """Seconds until every key may try again (0: now)."""
    wait = 0
    for row in connection.execute(sa.select(sign_in_throttle).where(sign_in_throttle.c.key.in_(keys))):
        until = _utc(row.locked_until)
        if until is not None and until > now:
            wait = max(wait, int((until - now).total_seconds()) + 1)
    return wait


def _record_failure(connection: sa.Connection, key: str, limit: int, now: dt.datetime) -> None:
    row = connection.execute(sa.select(sign_in_throttle).where(sign_in_throttle.c.key == key)).first()
    failures = 1
    if row is not None and now - _utc(row.last_failure) < FORGET_FAILURES_AFTER:
        failures = row.failures + 1
    lock = _lock_seconds(failures, limit)
    values = {"failures": failures, "last_failure": now, "locked_until": now + dt.timedelta(seconds=lock) if lock else None}
    if row is None:
        connection.execute(sa.insert(sign_in_throttle).values(key=key, **values))
    else:
        connection.execute(sa.update(sign_in_throttle).where(sign_in_throttle.c.key == key).values(**values))


def log(store, name: str, outcome: str, client: str = "", via: str = "local") -> None:
    """One line of the sign-ins log (the admin page's list)."""
    with store._writer.begin() as connection:
        _log(connection, name, outcome, client, via)


def _log(connection: sa.Connection, name: str, outcome: str, client: str, via: str) -> None:
    connection.execute(sa.insert(sign_ins).values(at=_now(), name=(name or "")[:120], outcome=outcome,
                                                  client=(client or "")[:64], via=via))


def sign_in(store, name: str, password: str, client: str) -> Identity:
    """The account's identity, or :class:`SignInRefused` (the same message for every failure)."""
    name = (name or "").strip()[:120]
    keys = [_account_key(name), _client_key(client)]
    now = _now()
    with store._reader.connect() as connection:
        wait = _wait(connection, keys, now)
        row = connection.execute(sa.select(accounts).where(accounts.c.name == name)).first() if name else None
    if wait:
        log(store, name, "throttled", client)
        raise SignInRefused(
            f"Too many failed sign-ins for this name or from this address: try again in {wait} seconds.", wait
        )
    try:
        ok = _HASHER.verify(row.password_hash if row is not None else _DUMMY_HASH, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and row is not None and not row.disabled
    with store._writer.begin() as connection:
        if not ok:
            _record_failure(connection, keys[0], ACCOUNT_FAILURE_LIMIT, now)
            _record_failure(connection, keys[1], CLIENT_FAILURE_LIMIT, now)
            _log(connection, name, "refused", client, "local")
        else:
            connection.execute(sa.delete(sign_in_throttle).where(sign_in_throttle.c.key == keys[0]))
            _log(connection, name, "signed-in", client, "local")
    if not ok:
        raise SignInRefused(REFUSED)
    if _HASHER.check_needs_rehash(row.password_hash):
        with store._writer.begin() as connection:
            connection.execute(sa.update(accounts).where(accounts.c.name == name)
                               .values(password_hash=_HASHER.hash(password)))
    return Identity(row.name, row.role, via="local")


# --- sessions that survive a reload --------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def start_session(store, identity: Identity, hours: float) -> str:
    """A new random token for ``identity``, valid for ``hours``; the store keeps only its hash."""
    token = secrets.token_urlsafe(32)
    now = _now()
    with store._writer.begin() as connection:
        connection.execute(sa.insert(web_sessions).values(token_hash=_token_hash(token), name=identity.name,
                                                          created_at=now, expires_at=now + dt.timedelta(hours=hours)))
    return token


def resume_session(store, token: str) -> Identity | None:
    """The identity of a live session token (its account still enabled), or None."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    now = _now()
    with store._reader.connect() as connection:
        row = connection.execute(
            sa.select(web_sessions.c.expires_at, web_sessions.c.ended_at, accounts.c.name, accounts.c.role, accounts.c.disabled)
            .join(accounts, accounts.c.name == web_sessions.c.name)
            .where(web_sessions.c.token_hash == _token_hash(token))
        ).first()
    if row is None or row.ended_at is not None or row.disabled or _utc(row.expires_at) <= now:
        return None
    return Identity(row.name, row.role, via="local")


def end_session(store, token: str) -> None:
    with store._writer.begin() as connection:
        connection.execute(sa.update(web_sessions).where(web_sessions.c.token_hash == _token_hash(token),
                                                         web_sessions.c.ended_at.is_(None)).values(ended_at=_now()))


def _end_sessions(connection: sa.Connection, name: str) -> None:
    connection.execute(sa.update(web_sessions).where(web_sessions.c.name == name, web_sessions.c.ended_at.is_(None))
                       .values(ended_at=_now()))


def recent_sign_ins(store, limit: int = 100) -> list[dict]:
    with store._reader.connect() as connection:
        rows = connection.execute(sa.select(sign_ins).order_by(sign_ins.c.id.desc()).limit(limit)).all()
    return [{"at": _utc(r.at), "name": r.name, "outcome": r.outcome, "client": r.client, "via": r.via} for r in rows]
