"""``python -m store``: create, seed, import into, inspect, undo, dump and restore the store.

Examples::

    python -m store init
    python -m store import reports.geojson --author "A. Analyst" --comment "morning reports"
    python -m store import acled-export.csv --format acled --author feeds --dry-run --json
    python -m store history 2023-09-24-banjska-attack
    python -m store undo 7 --author "A. Analyst"
    python -m store dump backup/ && python -m store restore backup/
    printf '%s\n' "$PASSWORD" | python -m store users add alice --role analyst --password-stdin
    python -m store users list

The database is ``BORDER_BRIEF_DATABASE_URL`` (default: the SQLite file in var/).
Invalid input exits with status 2, prints every problem and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo.io import LayerValidationError
from layers.config import ConfigurationError, load_settings
from store.access import command_line
from store.api import EDITABLE_LAYERS, Store, StoreError, ValidationFailed
from store import db
from store.importing import MAX_IMPORT_BYTES, ImportFileError, read_import_file


# The stores a command opened: before exiting, main waits for the layers' copies they are
# rewriting after a large batch (Store.wait_for_copies), so the next server start reads them.
_OPENED: list[Store] = []


def _store(url: str | None) -> Store:
    settings = load_settings()
    store = Store(url or settings.database_url)
    _OPENED.append(store)
    return store


def cmd_init(args) -> int:
    from layers.data import layer_files

    settings = load_settings()
    store = Store(args.database or settings.database_url)
    db.migrate(store._writer)
    result = store.sync_catalogue(layer_files(settings), dry_run=args.dry_run)
    summary = {**result.summary(), "retired": result.count("retired"), "conflicts": len(result.conflicts)}
    if args.json:
        print(json.dumps({**summary, "conflict_ids": [c.feature_id for c in result.conflicts]}))
    else:
        print(f"store: {store.backend} at version {store.version()}; catalogue files: {result.added} added, "
              f"{result.changed} changed, {result.count('retired')} retired, {result.unchanged} unchanged"
              + (f" (batch {result.batch})" if result.batch else ""))
        for conflict in result.conflicts:
            print(f"  conflict: {conflict.layer}/{conflict.feature_id}: {conflict.message}")
    return 0


def cmd_import(args) -> int:
    store = _store(args.database)
    path = Path(args.file)
    layer, features = read_import_file(path, fmt=args.format, layer=args.layer)
    result = store.import_features(layer, features, identity=command_line(args.author), comment=args.comment,
                                   source=path.name, dry_run=args.dry_run)
    if args.json:
        print(json.dumps({**result.summary(), "dry_run": args.dry_run}))
    else:
        verb = "would be" if args.dry_run else "were"
        print(f"{path.name}: {result.added} {verb} added, {result.changed} {verb} changed, "
              f"{result.unchanged} unchanged" + (f" (batch {result.batch})" if result.batch else ""))
        for change in result.changes:
            if change.kind == "changed":
                print(f"  changed {change.feature_id}: {', '.join(change.fields)}")
    return 0


def cmd_history(args) -> int:
    store = _store(args.database)
    history = store.history(args.feature_id, args.layer)
    if not history:
        print(f"no feature '{args.feature_id}' in the store", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([r.as_json() for r in history], ensure_ascii=False))
        return 0
    for r in history:
        what = "retired" if r.retired else (", ".join(r.changed_fields) if r.revision > 1 else "created")
        print(f"{r.layer}/{r.feature_id} r{r.revision}  {r.created_at:%Y-%m-%d %H:%M} UTC  {r.author}  batch {r.batch}  "
              f"{what}" + (f"  ({r.comment})" if r.comment else ""))
    return 0


def cmd_undo(args) -> int:
    store = _store(args.database)
    batch = store.undo(args.batch, identity=command_line(args.author), comment=args.comment)
    print(json.dumps({"batch": batch, "undoes": args.batch}) if args.json else f"batch {args.batch} undone by batch {batch}")
    return 0


def cmd_dump(args) -> int:
    counts = _store(args.database).dump(Path(args.directory))
    print(json.dumps(counts) if args.json else f"dumped to {args.directory}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def cmd_restore(args) -> int:
    store = _store(args.database)
    db.migrate(store._writer)
    count = store.restore(Path(args.directory))
    print(json.dumps({"revisions": count}) if args.json else f"restored {count} revisions from {args.directory}")
    return 0


def _password_from_stdin() -> str:
    """The first line of standard input (a password never goes on the command line)."""
    line = sys.stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def _operator():
    """Whoever runs the command line holds the database's URL: an admin (named after the OS user)."""
    import getpass

    try:
        who = getpass.getuser()
    except Exception:
        who = "operator"
    return command_line(f"{who} (command line)")


def cmd_users(args) -> int:
    from store import users

    store = _store(args.database)
    db.migrate(store._writer)
    if args.action == "list":
        rows = users.list_accounts(store)
        if args.json:
            print(json.dumps([{"name": a.name, "role": a.role, "disabled": a.disabled,
                               "created_at": a.created_at.isoformat()} for a in rows], ensure_ascii=False))
        else:
            for a in rows:
                print(f"{a.name}  {a.role}" + ("  (disabled)" if a.disabled else ""))
        return 0
    if args.action in ("add", "set-password") and not args.password_stdin:
        print("refused: give the password on standard input with --password-stdin", file=sys.stderr)
        return 2
    if args.action == "add":
        if not args.role:
            print("refused: say the account's role with --role viewer|analyst|admin", file=sys.stderr)
            return 2
        users.add_account(store, args.name, args.role, _password_from_stdin(), by=_operator())
        print(f"account {args.name} added ({args.role})")
    elif args.action == "set-password":
        users.set_password(store, args.name, _password_from_stdin(), by=_operator())
        print(f"password of {args.name} changed; its open sign-ins are ended")
    elif args.action == "set-role":
        users.set_role(store, args.name, args.role, by=_operator())
        print(f"{args.name} is now {args.role}")
    elif args.action == "disable":
        users.set_disabled(store, args.name, True, by=_operator())
        print(f"account {args.name} disabled; its open sign-ins are ended")
    elif args.action == "enable":
        users.set_disabled(store, args.name, False, by=_operator())
        print(f"account {args.name} enabled")
    return 0


def cmd_batches(args) -> int:
    rows = _store(args.database).batch_list(args.limit)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for b in rows:
            print(f"batch {b['id']}  {b['created_at']}  {b['author']}  {b['kind']}"
                  + (f"  undoes {b['undoes']}" if b["undoes"] else "") + (f"  {b['source']}" if b["source"] else "")
                  + (f"  ({b['comment']})" if b["comment"] else ""))
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m store", description=__doc__.split("\n\n")[0])
    top.add_argument("--database", help="an SQLAlchemy URL (default: BORDER_BRIEF_DATABASE_URL or the SQLite file in var/)")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create or migrate the store; bring in the catalogue files as one batch")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_init)

    p = sub.add_parser("import", help=f"import a file as one batch (validated whole; at most {MAX_IMPORT_BYTES // 1_000_000} MB)")
    p.add_argument("file")
    p.add_argument("--format", choices=("geojson", "csv", "acled"),
                   help="default: from the file (.geojson/.json; a .csv with ACLED's event_id_cnty column is acled, else the catalogue's columns)")
    p.add_argument("--layer", choices=EDITABLE_LAYERS, default=None, help="for GeoJSON: the layer (default events)")
    p.add_argument("--author", required=True)
    p.add_argument("--comment", default="")
    p.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    p.add_argument("--json", action="store_true", help='print {"batch": ..., "added": N, "changed": N, "unchanged": N}')
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("history", help="every revision of a feature")
    p.add_argument("feature_id")
    p.add_argument("--layer", choices=EDITABLE_LAYERS)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_history)

    p = sub.add_parser("undo", help="undo a batch (refused if its features changed since)")
    p.add_argument("batch", type=int)
    p.add_argument("--author", required=True)
    p.add_argument("--comment", default="")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_undo)

    p = sub.add_parser("dump", help="current features as GeoJSON and the whole history as JSON lines")
    p.add_argument("directory")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_dump)

    p = sub.add_parser("restore", help="replay a dump into an empty store")
    p.add_argument("directory")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_restore)

    from store.access import ROLES

    p = sub.add_parser("users", help="local accounts: add, list, disable, enable, set-password, set-role")
    p.add_argument("action", choices=("add", "list", "disable", "enable", "set-password", "set-role"))
    p.add_argument("name", nargs="?", default=None)
    p.add_argument("--role", choices=ROLES)
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of standard input")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_users)

    p = sub.add_parser("batches", help="the latest batches")
    p.add_argument("--limit", type=int, default=30)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_batches)
    return top


def _run(args) -> int:
    try:
        return args.run(args)
    finally:
        while _OPENED:
            _OPENED.pop().wait_for_copies()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "action", None) not in (None, "list") and not args.name:
        parser().error(f"users {args.action} needs an account NAME")
    if getattr(args, "action", None) == "set-role" and not args.role:
        parser().error("users set-role needs --role")
    try:
        return _run(args)
    except ValidationFailed as exc:
        print(f"nothing was written: {len(exc.problems)} problem(s) to fix:", file=sys.stderr)
        for problem in exc.problems[:200]:
            print(f"  - {problem}", file=sys.stderr)
        if len(exc.problems) > 200:
            print(f"  - ... and {len(exc.problems) - 200} more", file=sys.stderr)
        return 2
    except (ImportFileError, LayerValidationError) as exc:
        print(f"nothing was written: {exc}", file=sys.stderr)
        return 2
    except (StoreError, ConfigurationError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
