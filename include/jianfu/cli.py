"""The `jianfu` command (SPEC.md section 11). Airflow tasks call the same functions.

Exit status: 0 when the command did its work (a rejected submission is work done), 2 for a usage
error, 1 for a failure — always with one line on stderr, and a traceback only with --debug.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from .config import JianfuError, Settings, load_rules

FORMATS = ("table", "csv", "json")


class UsageError(Exception):
    """The command line asks for something that cannot be: exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


#: Three numbers that look like a date, whatever separates them: told apart from words so that
#: 2026-13-40 is called "not a real date" rather than "not a date".
_DATE_LIKE = re.compile(r"^\s*\d{4}\D{1,2}\d{1,2}\D{1,2}\d{1,2}\D?\s*$")


def _date(text: str) -> date:
    """A day as county files spell it: 2026-11-21, 2026/11/21, 2026年11月21日."""
    from .ingest.values import parse_date

    value = parse_date(text.strip())
    if value is not None:
        return value
    if _DATE_LIKE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a real date (no such month or day)")
    raise argparse.ArgumentTypeError(f"{text!r} is not a date: write it as 2026-11-21, 2026/11/21 or 2026年11月21日")


def _area(text: str) -> str:
    """A division code prefix: a province's 2 digits, a city's 4, a county's 6."""
    if text.isdigit() and len(text) in (2, 4, 6):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not an area: a province's 2 digits, a city's 4 or a county's 6 "
                                     f"(e.g. 14, 1404) / 地区代码应为省 2 位、市 4 位或县 6 位数字")


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
    summary = generate(out, seed=args.seed, scale=args.scale, now=settings.now(), force=args.force)
    print(summary.describe())
    return 0


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from .ingest.discover import DiscoveryError
    from .ingest.pipeline import ingest

    paths = [Path(p) for p in args.paths] or None
    settle = args.settle if args.settle is not None else load_rules(settings.reference)["landing_settle_seconds"]
    try:
        summary = ingest(settings, paths, args.kind, _progress, recheck_rejected=args.recheck_rejected,
                         settle=settle, workers=settings.ingest_workers)
    except DiscoveryError as exc:
        raise UsageError(str(exc)) from None
    print(summary.describe())
    if summary.outcomes:
        _refresh_data_docs(settings)
    return 0


def _refresh_data_docs(settings: Settings) -> None:
    """The validation history pages, a step of its own after ingest: the ledger and the reports are
    the record, so a failure here is reported and leaves the ingest's work as it is."""
    from .validate import build_data_docs

    _progress("refreshing the validation history (GX Data Docs)")
    try:
        build_data_docs(settings)
    except Exception as exc:  # noqa: BLE001 - the pages are a convenience, the ingest is done
        logging.getLogger(__name__).debug("Data Docs refresh failed", exc_info=True)
        print(f"jianfu: could not refresh the validation history ({type(exc).__name__}: {exc})", file=sys.stderr)


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
    board = status_board(settings, as_of=as_of, send_reminders=args.send_reminders)
    print(board.describe(args.area or ""))
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

    limits = {k: v for k, v in (("timeout", args.timeout), ("memory_limit", args.memory_limit)) if v is not None}
    print(run_query(settings, args.sql, args.format, **limits))
    return 0


def cmd_joint(settings: Settings, args: argparse.Namespace) -> int:
    from .joint import joint_result
    from .joint.render import render_csv, render_json, render_text

    result = joint_result(settings, year=args.year, as_of=args.as_of)
    if args.format == "csv":
        print(render_csv(result.proposals))
        print(result.summary.describe(), file=sys.stderr)
    elif args.format == "json":
        print(render_json(result))
    else:
        print(render_text(result))
    return 0


def _year(text: str) -> int:
    if len(text) != 4 or not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a year in the form YYYY")
    return int(text)
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

    p = sub.add_parser("sample", help="write made-up reference data and submissions (a planted case of every rule)")
    p.add_argument("--out", help="directory to write into (default: $JIANFU_HOME)")
    p.add_argument("--force", action="store_true",
                   help="replace reference files and add to a landing directory that already hold data")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--scale", choices=("pilot", "province", "national"), default="pilot")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("ingest", help="receive, validate and put in force county files")
    p.add_argument("paths", nargs="*", help="files or directories (default: $JIANFU_HOME/landing)")
    p.add_argument("--kind", choices=("form_counts", "work_groups", "inspections"),
                   help="kind of every file given (default: from the landing/<kind>/ directory)")
    p.add_argument("--recheck-rejected", action="store_true",
                   help="validate rejected files again (after fixing reference data)")
    p.add_argument("--settle", type=float, metavar="S",
                   help="leave files changed in the last S seconds for the next run "
                        "(default: landing_settle_seconds of rules.yaml; 0 takes every file)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("build", help="build the warehouse, flags, burden and quota usage")
    p.add_argument("--full", action="store_true", help="rebuild every partition, not only what changed")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("alerts", help="evaluate quotas and notify departments")
    p.add_argument("--dry-run", action="store_true", help="show what would be sent, send and record nothing")
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("status", help="collection status board (and reminders)")
    p.add_argument("--as-of", type=_date, help="the day to judge due dates by (default: today)")
    p.add_argument("--send-reminders", action="store_true",
                   help="also send the reminders that are due (without it the board is only a look)")
    p.add_argument("--area", type=_area, help="print only the counties of a province (2 digits), a city (4) or one county (6), e.g. 14; "
                                  "reminders still go to every county due")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("check-form", help="admission check (准入) of proposed new forms")
    p.add_argument("file", help="CSV or XLSX with dept_code, form_name, frequency, data_items")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_check_form)

    p = sub.add_parser("query", help="SQL over the warehouse views (read-only)")
    p.add_argument("sql", help="a SQL query, e.g. \"SELECT rule, count(*) FROM flags GROUP BY rule\"")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--timeout", type=float, help="stop the query after this many seconds (default 60)")
    p.add_argument("--memory-limit", help="memory the query may use, e.g. 512MiB (default 2GiB)")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("joint", help="joint visits (综合查一次): merge planned visits to the same target")
    p.add_argument("--year", type=_year, help="the plan year (default: the year of --as-of)")
    p.add_argument("--as-of", type=_date, help="visits planned after this day can move (default: today)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_joint)
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


#: Commands that create what they write into; every other one needs an existing home.
CREATES_HOME = {"init", "sample"}
#: Commands that need no warehouse yet (ingest stages files; the build creates the tables).
NO_WAREHOUSE = CREATES_HOME | {"ingest", "build"}


def _split_debug(argv: list[str]) -> tuple[list[str], bool]:
    """Take `--debug` from anywhere on the line (before a `--`), so `jianfu ingest --debug` works too."""
    end = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:end]
    return [a for i, a in enumerate(argv) if i >= end or a != "--debug"], debug


def check_home(settings: Settings, command: str) -> None:
    """Refuse to answer from a home or warehouse that is not there: an empty answer would mislead."""
    if command in CREATES_HOME:
        if settings.home.exists() and not settings.home.is_dir():
            raise JianfuError(f"JIANFU_HOME {settings.home} is a file, not a directory: "
                              "point JIANFU_HOME at a directory")
        return
    if settings.home.exists() and not settings.home.is_dir():
        raise JianfuError(f"JIANFU_HOME {settings.home} is a file, not a directory: "
                          "point JIANFU_HOME at the office's jianfu home directory")
    if not settings.home.is_dir():
        raise JianfuError(f"JIANFU_HOME {settings.home} does not exist: point JIANFU_HOME at the office's "
                          "jianfu home, or create one with `jianfu init`")
    if command not in NO_WAREHOUSE and "://" not in settings.warehouse and not Path(settings.warehouse).is_dir():
        what = "is not a directory" if Path(settings.warehouse).exists() else "does not exist"
        raise JianfuError(f"the warehouse {settings.warehouse} {what}: point JIANFU_WAREHOUSE at the "
                          "warehouse, or create it with `jianfu init`")


def _quiet_broken_pipe() -> int:
    """The reader (`| head`) has gone: stop without a message, as Unix tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests capturing it)
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe


def main(argv: Sequence[str] | None = None) -> int:
    argv, debug = _split_debug(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 2
        settings = Settings.from_env()
        check_home(settings, args.command)
        status = args.func(settings, args)
        sys.stdout.flush()
        return status
    except UsageError as exc:
        print(f"jianfu: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jianfu: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except Exception as exc:
        if debug:
            raise
        print(f"jianfu: {_reason(exc)} (run with --debug for details)", file=sys.stderr)
        return 1


def _reason(exc: Exception) -> str:
    """One line for stderr: jianfu's own messages as they are, OS errors as a plain sentence."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror.lower()}"
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if not isinstance(exc, (JianfuError, OSError)):
        reason = f"{type(exc).__name__}: {reason}"
    return reason


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
