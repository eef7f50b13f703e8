"""The `jianfu` command (SPEC.md section 11). Airflow tasks call the same functions.

Exit status: 0 when the command did its work (a rejected submission is work done), 2 for a usage
error, 1 for a failure — always with one line on stderr, and a traceback only with --debug.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from .config import JianfuError, Settings

FORMATS = ("table", "csv", "json")


class UsageError(Exception):
    """The command line asks for something that cannot be: exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    from .home import init_home

    print(init_home(settings))
    if not args.no_docs:
        # The suites' pages of the validation history, once, here: an ingest then renders only
        # its new results (a suite page is rendered again only when the suite's JSON changes).
        from .validate import build_data_docs

        _progress("rendering the expectation suites into the validation history (GX Data Docs)")
        print(f"validation history: {build_data_docs(settings)}")
    return 0


def cmd_sample(settings: Settings, args: argparse.Namespace) -> int:
    from .sample import generate

    out = Path(args.out).absolute() if args.out else settings.home
    summary = generate(out, seed=args.seed, scale=args.scale, now=settings.now())
    print(summary.describe())
    return 0


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from .ingest.discover import DiscoveryError
    from .ingest.pipeline import ingest

    paths = [Path(p) for p in args.paths] or None
    try:
        summary = ingest(settings, paths, args.kind, _progress, recheck_rejected=args.recheck_rejected)
    except DiscoveryError as exc:
        raise UsageError(str(exc)) from None
    print(summary.describe())
    return 0


def cmd_build(settings: Settings, args: argparse.Namespace) -> int:
    from .warehouse.build import build

    print(build(settings, full=args.full, progress=_progress).describe())
    return 0


def cmd_alerts(settings: Settings, args: argparse.Namespace) -> int:
    from .alerts import run_alerts

    print(run_alerts(settings, dry_run=args.dry_run).describe())
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from .collection import status_board, today

    as_of = args.as_of or today(settings)  # the office's calendar day, not UTC's
    board = status_board(settings, as_of=as_of, send_reminders=not args.no_reminders)
    print(board.describe())
    return 0


def cmd_check_form(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    from .collection import check_form

    print(check_form(settings, path).render(args.format))
    return 0


def cmd_query(settings: Settings, args: argparse.Namespace) -> int:
    from .warehouse.query import run_query

    print(run_query(settings, args.sql, args.format))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from .console.serve import serve

    serve(settings, args.host, args.port)
    return 0


def _period(text: str) -> str:
    from .report import ReportError, check_period

    try:
        return check_period(text)
    except ReportError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from .report import write_report

    out = Path(args.out).absolute() if args.out else None
    print(write_report(settings, args.period, args.format, out, args.county))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jianfu", description="减负 jianfu: county submissions → validated Parquet warehouse, "
                                                "flags, quota alerts and the collection board.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("init", help="create $JIANFU_HOME, the ledger and the validation history site")
    p.add_argument("--no-docs", action="store_true",
                   help="do not render the expectation suites into GX Data Docs (the first ingest will)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("sample", help="write reference data, sample submissions and truth/")
    p.add_argument("--out", help="directory to write into (default: $JIANFU_HOME)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--scale", choices=("pilot", "province", "national"), default="pilot")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("ingest", help="receive, validate and put in force county files")
    p.add_argument("paths", nargs="*", help="files or directories (default: $JIANFU_HOME/landing)")
    p.add_argument("--kind", choices=("form_counts", "work_groups", "inspections"),
                   help="kind of every file given (default: from the landing/<kind>/ directory)")
    p.add_argument("--recheck-rejected", action="store_true",
                   help="validate rejected files again (after fixing reference data)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("build", help="build the warehouse, flags, burden and quota usage")
    p.add_argument("--full", action="store_true", help="rebuild every partition, not only what changed")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("alerts", help="evaluate quotas and notify departments")
    p.add_argument("--dry-run", action="store_true", help="show what would be sent, send and record nothing")
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("status", help="collection status board (and reminders)")
    p.add_argument("--as-of", type=_date, help="the day to judge due dates by (default: today)")
    p.add_argument("--no-reminders", action="store_true", help="show the board without sending reminders")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("check-form", help="admission check (准入) of proposed new forms")
    p.add_argument("file", help="CSV or XLSX with dept_code, form_name, frequency, data_items")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_check_form)

    p = sub.add_parser("query", help="SQL over the warehouse views (read-only)")
    p.add_argument("sql", help="a SQL query, e.g. \"SELECT rule, count(*) FROM flags GROUP BY rule\"")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("report", help="the monthly bulletin (月度通报) as PDF, XLSX or HTML")
    p.add_argument("--period", required=True, type=_period, help="the month, YYYY-MM")
    p.add_argument("--county", help="one county's bulletin (6-digit code); default: every county")
    p.add_argument("--format", choices=("pdf", "xlsx", "html"), default="pdf")
    p.add_argument("--out", help="file to write (default: $JIANFU_HOME/reports/bulletins/bulletin-<period>.<format>)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("serve", help="the console in the browser, without Airflow (loopback unless a token is set)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8090, help="port (default 8090)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 2
        return args.func(Settings.from_env(), args)
    except UsageError as exc:
        print(f"jianfu: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jianfu: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if not isinstance(exc, (JianfuError, OSError)):
            reason = f"{type(exc).__name__}: {reason}"
        print(f"jianfu: {reason} (run with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
