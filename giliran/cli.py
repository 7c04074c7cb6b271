"""The ``giliran`` command: one entry point for every node and tool.

Node code is imported inside each subcommand, so ``giliran config check``
works on a machine without pygame or GPIO libraries.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from display.number_words import LANGUAGES
from giliran import __version__
from giliran.config import SiteConfig, load_site
from giliran.errors import ConfigError, GiliranError, MissingDependency, NotInSite

log = logging.getLogger(__name__)

DEFAULT_SITE = os.environ.get("GILIRAN_SITE", "/etc/giliran/site.toml")
#: Exit statuses the units list in RestartPreventExitStatus= (docs/DEPLOY.md): a restart cannot fix them.
EXIT_BAD_CONFIG = 2
# A library or device this machine lacks: the units do not restart on it either.
EXIT_MISSING_DEPENDENCY = 3

Command = Callable[[argparse.Namespace], int]


def _site(args: argparse.Namespace) -> SiteConfig:
    return load_site(Path(args.site))


def iso_day(text: str) -> str:
    """A service day as YYYY-MM-DD; anything else (24-11-2026 matched no ticket) is refused by name."""
    import datetime as dt

    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD, e.g. 2026-11-24")


def _credentials_dir(args: argparse.Namespace, site: SiteConfig) -> Path:
    return Path(args.credentials_dir or site.broker.credentials_dir)


# --- subcommands ---------------------------------------------------------------


def cmd_config_check(args: argparse.Namespace) -> int:
    site = load_site(Path(args.file))
    from printer.profile import load_profile  # python-escpos's profiles: the kiosk refuses a name it lacks

    try:
        load_profile(site.printer.profile)
    except ConfigError as exc:
        raise ConfigError(args.file, exc.problems) from None
    print(f"{args.file}: OK: site {site.site.id}, {len(site.categories)} categories, "
          f"{len(site.counters)} counters, {len(site.displays)} displays")
    return 0


def cmd_broker_init(args: argparse.Namespace) -> int:
    from giliran.broker import TlsListener, load_bridge, write_broker_files
    from giliran.tls import require_tls_files

    site = _site(args)
    tls = TlsListener(args.tls_port, require_tls_files(Path(args.tls_dir)), args.tls_bind) if args.tls_port else None
    bridge = load_bridge(Path(args.bridge)) if args.bridge else None
    files = write_broker_files(site, Path(args.out), port=args.port, bind=args.bind, log_dest=args.log_dest,
                               data_dir=Path(args.data_dir) if args.data_dir else None, tls=tls, bridge=bridge,
                               root=Path(args.root) if args.root else None)
    print(f"wrote {files.config}, {files.passwd}, {files.acl} and credentials in {files.credentials_dir}")
    return 0


def cmd_tls_init(args: argparse.Namespace) -> int:
    from giliran.tls import ensure_tls_files

    site = _site(args)
    files = ensure_tls_files(Path(args.out), site.site.id, args.host)
    print(f"site CA {files.ca_cert}: copy it to every node that connects over TLS (broker.ca_file); "
          f"broker certificate {files.cert} for {', '.join(args.host)}")
    return 0


def cmd_broker_run(args: argparse.Namespace) -> int:
    from giliran.broker import share_with_mosquitto, write_broker_files

    site = _site(args)
    data_dir = Path(args.dir) / "data"
    files = write_broker_files(site, Path(args.dir), port=args.port, bind=args.bind, log_dest="stderr",
                               data_dir=data_dir)
    if os.geteuid() == 0:  # Mosquitto then drops to user mosquitto before reading its files
        share_with_mosquitto(files, data_dir)
    os.execvp("mosquitto", ["mosquitto", "-c", str(files.config)])


def cmd_kiosk(args: argparse.Namespace) -> int:
    from kiosk.node import run_kiosk

    site = _site(args)
    return run_kiosk(site, Path(args.site), _credentials_dir(args, site))


def cmd_display(args: argparse.Namespace) -> int:
    from display.node import run_display

    site = _site(args)
    return run_display(site, args.id, _credentials_dir(args, site), Path(args.voices), window=args.window)


def cmd_counter(args: argparse.Namespace) -> int:
    from counter.cli import run_counter_command

    site = _site(args)
    return run_counter_command(site, _credentials_dir(args, site), args.counter, args.action, args.category,
                               timeout=args.timeout)


def cmd_counter_node(args: argparse.Namespace) -> int:
    from counter.node import run_counter_node

    site = _site(args)
    return run_counter_node(site, _credentials_dir(args, site), args.counter, serial_port_override=args.serial_port)


def cmd_report(args: argparse.Namespace) -> int:
    import datetime as dt

    from giliran.report import build_report, format_report

    site = _site(args)
    day = args.day or dt.datetime.now(site.site.zone).date().isoformat()
    ledger = Path(args.ledger or site.site.ledger)
    if not ledger.exists():
        raise GiliranError(f"no ledger at {ledger}")
    report = build_report(ledger, day, args.target_wait, [c.id for c in site.categories])
    print(f"# {site.site.id}, service day {day}\n")
    print(format_report(report, args.target_wait))
    return 0


def cmd_ledger_backup(args: argparse.Namespace) -> int:
    from giliran.ledger_store import backup

    site = _site(args)
    tickets = backup(Path(site.site.ledger), Path(args.dest))
    print(f"backed up {site.site.ledger} to {args.dest} ({tickets} tickets)")
    return 0


def cmd_protocol_docs(args: argparse.Namespace) -> int:
    from giliran.protocol_docs import write_docs

    for path in write_docs(Path(args.out)):
        print(f"wrote {path}")
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
    from display.voices_build import run

    return run(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from hardware_sim.demo import run_demo

    return run_demo(args)


def cmd_scenario_run(args: argparse.Namespace) -> int:
    from hardware_sim.seeds import cmd_scenario_run as run

    return run(args)


# --- parser ------------------------------------------------------------------------
# Defined here, not in the modules that run them: building the parser must not import
# pygame, the nodes or the simulator (``--help`` and ``counter`` stay light).


def _add_voices(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    voices = sub.add_parser("voices", help="build, check and try PA voice packs")
    commands = voices.add_subparsers(dest="voices_command", required=True)
    build = commands.add_parser("build", help="build the espeak-ng packs into DIR/<lang>")
    build.add_argument("--lang", nargs="+", choices=LANGUAGES, default=list(LANGUAGES))
    build.add_argument("--out", type=Path, required=True, metavar="DIR",
                       help="voices folder; each pack goes to DIR/<lang>")
    build.add_argument("--number-reading", choices=("digits", "number"), default="digits",
                       help="how ticket numbers are read (default: digits)")
    check = commands.add_parser("check", help="check the packs DIR/<lang> (e.g. a recorded voice)")
    check.add_argument("dir", type=Path, metavar="DIR")
    check.add_argument("--lang", nargs="+", default=["ms", "en"])
    check.add_argument("--letters", help="ticket prefix letters the site uses (default: A-Z)")
    say = commands.add_parser("say", help="write one announcement to a WAV file, to listen to")
    say.add_argument("number", help="ticket number, e.g. A102")
    say.add_argument("counter", type=int)
    say.add_argument("--voices", type=Path, required=True, metavar="DIR")
    say.add_argument("--lang", nargs="+", default=["ms", "en"])
    say.add_argument("--out", type=Path, required=True, metavar="FILE")
    voices.set_defaults(func=cmd_voices)



def _add_site(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", default=DEFAULT_SITE, help="site file (default: $GILIRAN_SITE or %(default)s)")
    parser.add_argument("--credentials-dir",
                        help="folder of <node>.toml MQTT credentials (default: from the site file)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="giliran",
        description="Giliran queue management: kiosk, display and counter nodes over MQTT.",
    )
    parser.add_argument("--version", action="version", version=f"giliran {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    config = sub.add_parser("config", help="check a site file").add_subparsers(dest="sub", required=True)
    check = config.add_parser("check", help="validate a site file; exit 2 and name every problem if it is bad")
    check.add_argument("file")
    check.set_defaults(func=cmd_config_check)

    broker = sub.add_parser("broker", help="Mosquitto set-up from the site file").add_subparsers(dest="sub",
                                                                                                 required=True)
    init = broker.add_parser("init", help="write mosquitto.conf, passwords, ACL and per-node credentials")
    _add_site(init)
    init.add_argument("--out", required=True, help="folder to write (e.g. /etc/giliran/broker)")
    init.add_argument("--port", type=int, help="listener port (default: the site file's broker.port)")
    init.add_argument("--bind", default="127.0.0.1", help="listener address (default: %(default)s)")
    init.add_argument("--log-dest", help="mosquitto log_dest, e.g. 'stderr' for the journal (default: a file in --out)")
    init.add_argument("--data-dir", help="Mosquitto's persistence folder (default: OUT/data)")
    init.add_argument("--tls-port", type=int, help="add a TLS listener on this port, e.g. 8883 (`giliran tls init`)")
    init.add_argument("--tls-bind", default="0.0.0.0", help="TLS listener address (default: %(default)s)")
    init.add_argument("--tls-dir", default="/etc/giliran/tls",
                      help="has ca.crt, server.crt, server.key (default: %(default)s)")
    init.add_argument("--bridge", help="head-office bridge file (TOML: host, port, username, password, ca_file)")
    init.add_argument("--root", help="the target system's / is mounted here (installing into a folder): "
                                     "mosquitto.conf names its files without this prefix")
    init.set_defaults(func=cmd_broker_init)
    run = broker.add_parser("run", help="init into a folder, then run mosquitto in the foreground (development)")
    _add_site(run)
    run.add_argument("--dir", default="var/broker", help="folder for the broker files (default: %(default)s)")
    run.add_argument("--port", type=int)
    run.add_argument("--bind", default="127.0.0.1")
    run.set_defaults(func=cmd_broker_run)

    tls = sub.add_parser("tls", help="the broker's TLS certificates").add_subparsers(dest="sub", required=True)
    tls_init = tls.add_parser("init", help="make the site CA (once) and a broker certificate naming every --host")
    tls_init.add_argument("--site", default=DEFAULT_SITE, help="site file (default: $GILIRAN_SITE or %(default)s)")
    tls_init.add_argument("--out", default="/etc/giliran/tls", help="folder for the files (default: %(default)s)")
    tls_init.add_argument("--host", action="append", required=True,
                          help="a DNS name or IP address nodes use to reach the broker (repeat for more)")
    tls_init.set_defaults(func=cmd_tls_init)

    kiosk = sub.add_parser("kiosk", help="run the kiosk node: ledger, buttons, printer")
    _add_site(kiosk)
    kiosk.set_defaults(func=cmd_kiosk)

    display = sub.add_parser("display", help="run a display board (and its PA, if it is one)")
    _add_site(display)
    display.add_argument("--id", required=True, help="display id from the site file, e.g. hall")
    display.add_argument("--voices", default=os.environ.get("GILIRAN_VOICES", "/var/lib/giliran/voices"),
                         help="voice packs folder, <lang>/ per language (default: %(default)s)")
    display.add_argument("--window", action="store_true", help="a window instead of full screen (desktop)")
    display.set_defaults(func=cmd_display)

    counter = sub.add_parser("counter", help="send a counter command, e.g. `giliran counter 3 next`")
    _add_site(counter)
    counter.add_argument("counter", type=int, help="counter number")
    counter.add_argument("action", choices=["next", "recall", "no-show", "done", "transfer", "pause", "open",
                                            "close", "very-good", "good", "poor"])
    counter.add_argument("category", nargs="?", help="target category of a transfer")
    counter.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the reply")
    counter.set_defaults(func=cmd_counter)

    node = sub.add_parser("counter-node", help="run counter N's node: keypad, feedback buttons, number board")
    _add_site(node)
    node.add_argument("--id", dest="counter", type=int, required=True, help="counter number")
    node.add_argument("--serial-port", help="number board device, overriding the site file (e.g. /dev/ttyUSB1)")
    node.set_defaults(func=cmd_counter_node)

    _add_voices(sub)
    demo = sub.add_parser("demo", help="run the virtual office: a peak morning in about a minute, output in demo-out/")
    demo.add_argument("--site", help="site file (default: the example office)")
    demo.add_argument("--scenario", help="scenario file (default: the example peak morning)")
    demo.add_argument("--out", default="demo-out", help="output folder (default: %(default)s)")
    demo.add_argument("--window", action="store_true", help="interactive: the hall board in a window, keys press")
    demo.set_defaults(func=cmd_demo)
    scenario = sub.add_parser("scenario", help="replay scenarios in the virtual office").add_subparsers(
        dest="sub", required=True)
    run_seeds = scenario.add_parser("run", help="replay a scenario over many seeds (boards and PA off), pooled scores")
    run_seeds.add_argument("file", help="scenario file, e.g. examples/scenarios/peak-morning.toml")
    run_seeds.add_argument("--site", help="site file (default: the example office)")
    run_seeds.add_argument("--seeds", type=int, default=1, help="how many seeds (default: %(default)s)")
    run_seeds.add_argument("--first-seed", type=int, help="first seed (default: the scenario's own)")
    run_seeds.add_argument("--history-weeks", type=int, default=8,
                           help="past weeks of the scenario in the ledger first, to learn from (default: %(default)s)")
    run_seeds.add_argument("--out", help="also write the pooled table to this Markdown file")
    run_seeds.set_defaults(func=cmd_scenario_run)

    report = sub.add_parser("report", help="the day's report: waits per category, ratings per counter")
    _add_site(report)
    report.add_argument("--day", type=iso_day, help="service day, YYYY-MM-DD (default: today at the site)")
    report.add_argument("--ledger", help="ledger file (default: the site file's; e.g. a backup)")
    report.add_argument("--target-wait", type=float, default=30.0, help="service level target, minutes")
    report.set_defaults(func=cmd_report)

    ledger = sub.add_parser("ledger", help="the queue ledger").add_subparsers(dest="sub", required=True)
    backup = ledger.add_parser("backup", help="copy the live ledger consistently (safe while the kiosk runs)")
    _add_site(backup)
    backup.add_argument("dest", help="backup file, e.g. /var/backups/giliran/ledger-$(date +%%F).sqlite")
    backup.set_defaults(func=cmd_ledger_backup)

    protocol = sub.add_parser("protocol", help="the MQTT protocol").add_subparsers(dest="sub", required=True)
    docs = protocol.add_parser("docs", help="write docs/PROTOCOL.md and docs/schemas/*.json from the code")
    docs.add_argument("--out", default="docs")
    docs.set_defaults(func=cmd_protocol_docs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame's banner is noise in a node's journal
    # force: python-escpos calls logging.basicConfig() when imported, which would make ours a no-op
    # (and hide every INFO line) if anything imported it first.
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    func: Command = args.func
    try:
        return func(args)
    except (ConfigError, NotInSite) as exc:
        print(f"giliran: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    except MissingDependency as exc:
        print(f"giliran: {exc}", file=sys.stderr)
        return EXIT_MISSING_DEPENDENCY
    except GiliranError as exc:
        print(f"giliran: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
