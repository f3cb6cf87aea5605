"""The `leavewell` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from leavewell.bot.logs import configure_logging
from leavewell.bot.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leavewell",
        description="Mock interviewer for 'Why did you leave your last job?'. With no "
        "command: serve the chat platforms whose tokens are set, else practise here.",
    )
    sub = parser.add_subparsers(dest="command")
    practice = sub.add_parser("practice", help="practise in this terminal")
    practice.add_argument("--lang", choices=["en", "zh"], help="interface language")
    practice.add_argument("--database", help="database URL (default: LEAVEWELL_DATABASE_URL)")

    analyze = sub.add_parser("analyze", help="analyse an answer (stdin) or a batch file")
    analyze.add_argument("--lang", choices=["en", "zh", "auto"], default="en",
                         help="language of the answer, whose rules are used "
                         "(auto: detect it; default: en)")
    analyze.add_argument("--ui-lang", choices=["en", "zh"], default=None,
                         help="language of the finding messages (default: the answer's)")
    analyze.add_argument("--situation", default=None, help="situation id, e.g. laid_off")
    analyze.add_argument("--explain", action="store_true",
                         help="also show which rules and signals fired on which words, the "
                              "stated reason, and every match dropped and why")
    analyze.add_argument("--batch", type=Path,
                         help="JSONL or CSV with answer, lang, ui_lang, situation")

    migrate = sub.add_parser(
        "migrate", help="apply the database's pending migrations and print its schema "
        "version before and after (--check: change nothing; exit 1 if any are pending)")
    migrate.add_argument("--database", help="database URL (default: LEAVEWELL_DATABASE_URL)")
    migrate.add_argument("--check", action="store_true",
                         help="only report: exit 0 when up to date, 1 when migrations are "
                         "pending, 2 when the database cannot be read or is newer than "
                         "this code")

    sub.add_parser("diagram", help="print the interview flow as a mermaid diagram")
    sub.add_parser("check", help="validate the interview scripts, the analyzer's rule files "
                   "(running their examples) and the templates")
    return parser


def _settings(overrides: dict[str, str]) -> Settings:
    try:
        return load_settings(overrides)
    except SettingsError as exc:
        print(f"leavewell: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "analyze":
        return _analyze(args)
    if args.command == "diagram":
        from leavewell.dialogs.diagram import mermaid

        sys.stdout.write(mermaid())
        return 0
    if args.command == "check":
        from dataclasses import asdict

        from leavewell.bot import registry
        from leavewell.bot.texts import PlatformTexts
        from leavewell.dialogs.analyzer.examples import failing_examples
        from leavewell.dialogs.phrases import load_glossary, load_phrase_bank
        from leavewell.dialogs.render import Renderer

        Renderer()
        for plugin in registry.plugins().values():  # each adapter's own texts
            if plugin.texts is not None:
                PlatformTexts(plugin.texts)
        load_phrase_bank()
        load_glossary()
        failures = failing_examples()
        for failure in failures:
            print(f"leavewell: {failure}", file=sys.stderr)
        if failures:
            return 1
        print("scripts, analyzer rules and their examples, phrase bank, glossary, "
              "templates and the adapters' texts are valid")
        for plugin in registry.plugins().values():
            shown = [flag for flag, able in asdict(plugin.capabilities).items() if able]
            print(f"adapter {plugin.name} ({plugin.title}): {', '.join(shown) or 'text only'}")
        return 0

    overrides = {"database_url": args.database} if getattr(args, "database", None) else {}
    settings = _settings(overrides)
    redact = configure_logging(settings.log_level, [*settings.secrets(),
                                                    *_database_password(settings.database_url)],
                               settings.log_format)
    if args.command == "migrate":
        return _migrate(settings.database_url, check=args.check, redact=redact)
    from leavewell.bot.app import run_platforms, run_practice
    from leavewell.bot.startup import EXIT_CODE as STARTUP_EXIT_CODE
    from leavewell.bot.startup import StartupError, one_line

    try:
        if args.command is None and settings.enabled_platforms():
            return asyncio.run(run_platforms(settings))
        lang = getattr(args, "lang", None)
        asyncio.run(run_practice(settings, lang=lang))
    except KeyboardInterrupt:
        print()
    except StartupError as exc:
        logging.getLogger("leavewell").debug("start-up failed", exc_info=True)
        print(f"leavewell: could not start: {redact(one_line(str(exc)))}", file=sys.stderr)
        return STARTUP_EXIT_CODE
    except Exception as exc:
        # a failure while serving: say so plainly, and never print the token
        logging.getLogger("leavewell").debug("stopped by an error", exc_info=True)
        print(f"leavewell: stopped by an error: {redact(one_line(str(exc)))}", file=sys.stderr)
        return 1
    return 0


def _database_password(url: str) -> list[str]:
    """The password in a database URL, so that no log line can show it either."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [p for p in {password, unquote(password or "")} if p]


def _migrate(url: str, *, check: bool, redact: Callable[[str], str]) -> int:
    """`leavewell migrate [--check]`: the status on stdout, trouble on stderr (exit 2)."""
    from leavewell.bot.startup import EXIT_CODE, one_line, store_error
    from leavewell.storage.factory import migrate_database, schema_status

    def fail(message: str) -> int:
        print(f"leavewell: {redact(one_line(message))}", file=sys.stderr)
        return EXIT_CODE

    try:
        before = asyncio.run(schema_status(url))
    except Exception as exc:  # unreachable, damaged, foreign, a bad URL: say which
        logging.getLogger("leavewell").debug("schema check failed", exc_info=True)
        return fail(f"cannot read the schema version: {store_error(url, exc)}")
    print(f"database: {before.database}")
    if before.too_new:
        return fail(f"schema version {before.current} is newer than this code, which knows "
                    f"versions up to {before.latest}: upgrade leavewell")
    if check:
        if before.pending:
            print(f"schema version {before.current} of {before.latest}: {before.pending} "
                  f"migration(s) pending; run `leavewell migrate`")
            return 1
        print(f"schema version {before.current} of {before.latest}: up to date")
        return 0
    print(f"schema version before: {before.current}")
    try:
        _, after, applied = asyncio.run(migrate_database(url, before))
    except Exception as exc:
        logging.getLogger("leavewell").debug("migration failed", exc_info=True)
        return fail(f"migration failed: {store_error(url, exc)}")
    done = (f"applied {', '.join(map(str, applied))}" if applied
            else "nothing to apply")
    print(f"schema version after: {after.current} ({done})")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from leavewell.bot.analyze_cli import analyze_batch, analyze_one

    if args.batch is not None:
        if not args.batch.is_file():
            print(f"leavewell: no such file: {args.batch}", file=sys.stderr)
            return 2
        try:
            analyze_batch(args.batch, args.lang, sys.stdout, args.ui_lang, args.explain)
        except OSError as exc:  # unreadable file; every row's own trouble is an output line
            print(f"leavewell: cannot read {args.batch}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        return 0
    try:
        answer = sys.stdin.buffer.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        print("leavewell: the answer on standard input is not UTF-8 text", file=sys.stderr)
        return 2
    if not answer.strip():
        print("leavewell: give the answer on standard input", file=sys.stderr)
        return 2
    try:
        result = analyze_one(answer, args.lang, args.situation, args.ui_lang, args.explain)
    except ValueError as exc:
        print(f"leavewell: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
