"""The ``gateway`` command (CONTRACT §1). Heavy imports stay inside commands so ``gateway --help`` is instant."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .config import ConfigError, Settings

if TYPE_CHECKING:
    from redis import Redis


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _production_rules(settings: Settings, *, callbacks: bool) -> None:
    """Exit 2 with one line naming the variable unless the secrets are set or this is a development machine
    (CONTRACT §1); warn on a development machine whose callbacks are open."""
    from .secrets import missing

    problem = missing(settings, callbacks=callbacks)
    if problem:
        click.echo(f"gateway: {problem}", err=True)
        sys.exit(2)
    if callbacks and not settings.callback_token:
        click.echo("gateway: development mode (GATEWAY_DEV=1): AT callbacks are open, with no token to check; set "
                   "CALLBACK_TOKEN before going live.", err=True)


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _with_redis(settings: Settings) -> Settings:
    """Settings naming the Redis to use: Sentinel, ``REDIS_URL``, or the embedded server (started if needed and
    exported, so child processes share it)."""
    from .redis_client import export

    return export(settings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """USSD and SMS gateway for migrants and their families."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Port (default: $PORT or 8000).")
@click.option("--workers", type=int, default=None, help="Server processes (default: $WEB_WORKERS or 1).")
@click.option("--threads", type=int, default=None, help="Threads per process (default: $WEB_THREADS or 8).")
def serve(host: str, port: int | None, workers: int | None, threads: int | None) -> None:
    """Serve the web app with granian (its native interface: USSD on the event loop, the rest through Flask)."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    from .rsgi import HEADER_READ_TIMEOUT_MS

    if workers:
        os.environ["WEB_WORKERS"] = str(workers)
    if threads:
        os.environ["WEB_THREADS"] = str(threads)
    settings = _settings()
    _production_rules(settings, callbacks=True)
    port = port or settings.port
    _check_port(host, port)
    _setup_logging(settings)
    _with_redis(settings)
    from .voice import prebuild

    prebuild.start()  # the voice prompts' audio that is missing, built beside the server (it does not wait)
    if settings.web_workers > 1:
        # Each worker counts in its own files; /metrics adds them up (gateway.metrics).
        metrics_dir = settings.var_dir.resolve() / f"prometheus-{os.getpid()}"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    Granian(
        "gateway.wsgi:rsgi",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=settings.web_workers,
        # Headers are read by granian (Rust) before the app sees a request; a client gets 5 s to send them.
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        log_access=False,
        log_level=LogLevels(level) if (level := settings.log_level.lower()) in LogLevels.__members__ else
        LogLevels.info,  # LOG_LEVEL's names are granian's too (FATAL aside)
        respawn_failed_workers=True,
    ).serve()


def _check_port(host: str, port: int) -> None:
    """Exit with one line when ``host:port`` cannot be listened on (another gateway running there, most often),
    instead of the server's traceback."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise click.ClickException(f"Cannot listen on {host}:{port} ({exc.strerror or exc}): is another gateway "
                                   "running there? Choose another port with --port or PORT.") from None


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(burst: bool) -> None:
    """Run one outbox worker (RQ): emergency queue first, then normal."""
    from handlers.remittance import jobs as balance_jobs
    from handlers.remittance.providers import provider_from_spec
    from outbox.worker import run_worker

    from .outbox_setup import build_provider, build_voice, outbox_config
    from .redis_client import connect
    from .secrets import keyring
    from .services import balance_spec

    settings = _settings()
    _production_rules(settings, callbacks=False)
    _setup_logging(settings)
    try:
        config = outbox_config(settings, keyring(settings))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    # Balance jobs read through this process's own provider: its URL never travels in a job.
    balance_jobs.configure(provider_from_spec({**balance_spec(settings), "delay_s": 0}))
    from .voice import prebuild

    prebuild.start()  # alert calls speak the prompts too: what is missing is built beside the worker
    # Jobs may wait on the provider; the worker's Redis calls are not on a caller's clock.
    run_worker(connect(_with_redis(settings), pool_size=8, socket_timeout=30), provider=build_provider(settings),
               config=config, burst=burst, logging_level=settings.log_level, voice=build_voice(settings))


@main.command()
@click.option("--url", default=None, help="The gateway's USSD URL (default: http://127.0.0.1:$PORT/ussd).")
@click.option("--phone", default="+254711000001", show_default=True, help="The caller's number (E.164).")
@click.option("--network", default="63902", show_default=True, help="networkCode: MCC+MNC of the network.")
@click.option("--voice", is_flag=True, help="Make a voice call instead (AT's voice protocol, to /voice).")
@click.option("--no-audio", is_flag=True, help="With --voice: show audio URLs without playing them.")
@click.option("--width", type=click.IntRange(10, 80), default=28, show_default=True,
              help="Columns of the handset's screen (many feature phones show 20).")
@click.argument("code", default="*384*55#")
def dial(url: str | None, phone: str, network: str, voice: bool, no_audio: bool, width: int, code: str) -> None:
    """An interactive phone: speaks the AT USSD protocol (or, with --voice, AT's voice protocol) to a gateway.

    CODE may carry inputs, as on a handset: `*384*55*1*2#` dials *384*55# with the inputs 1 and 2."""
    settings = _settings()
    token = settings.callback_token
    if url is None and token is None:  # the local gateway, with the token `gateway run` keeps
        from .secrets import TOKEN_FILE

        kept = settings.var_dir / TOKEN_FILE
        token = kept.read_text().strip() if kept.is_file() else None
    query = f"?token={token}" if token else ""
    if voice:
        from .voice.dial import VoicePhone

        VoicePhone(url=url or f"http://127.0.0.1:{settings.port}/voice{query}", phone=phone,
                   number=settings.at_voice_number or VoicePhone.number, play=not no_audio).run()
        return
    from .dial import Phone, split_code

    service_code, inputs = split_code(code)
    Phone(url=url or f"http://127.0.0.1:{settings.port}/ussd{query}", phone=phone, network_code=network,
          service_code=service_code, inputs=inputs, width=width).run()


@main.command("check-menus")
def check_menus() -> None:
    """Validate every menu and translation; exit 1 with a list of faults."""
    from menus.catalog import Catalog
    from menus.check import BUDGETS, check_all
    from menus.engine import Engine
    from menus.model import MenuSet

    from .services import HANDLERS
    from .voice.audio import AudioLibrary
    from .voice.speech import voice_faults

    settings = _settings()
    catalog, menus = Catalog.load(), MenuSet.load()
    # check-menus draws no screen through a handler: the engine needs no services.
    engine: Engine[Any] = Engine(menus, catalog, HANDLERS, settings.page_budget, services=None)
    faults = check_all(menus, catalog, engine, settings.page_budget)
    measured = AudioLibrary.measured(settings.audio_dir)
    faults += voice_faults(menus, catalog, engine, settings.voice_max_prompt_s, measured)
    if faults:
        click.echo(f"{len(faults)} fault(s):", err=True)
        for fault in faults:
            click.echo(f"  - {fault}", err=True)
        sys.exit(1)
    click.echo(f"OK: {len(menus.screens)} screens in {len(menus.files)} menus, "
               f"{len(catalog.languages)} languages ({', '.join(catalog.languages)}), "
               f"budgets {', '.join(map(str, sorted({settings.page_budget, *BUDGETS}, reverse=True)))} septets, every "
               f"option on its first page; every voice prompt under {settings.voice_max_prompt_s} s.")


@main.command("build-audio")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where to write (default: $VOICE_AUDIO_DIR or ./var/audio).")
def build_audio(out: Path | None) -> None:
    """Build the audio of every voice prompt in every language (recorded files first, else espeak-ng)."""
    from menus.catalog import Catalog
    from menus.engine import Engine
    from menus.model import MenuSet

    from .services import HANDLERS
    from .voice.audio import build
    from .voice.service import SAY_LANGUAGES
    from .voice.speech import static_prompts
    from .voice.tts import TtsError

    settings = _settings()
    catalog, menus = Catalog.load(), MenuSet.load()
    engine: Engine[Any] = Engine(menus, catalog, HANDLERS, settings.page_budget, services=None)  # menu screens only
    languages = tuple(lang for lang in catalog.languages if lang not in SAY_LANGUAGES)
    prompts = [p for p in static_prompts(menus, catalog, engine, languages) if p.lang not in SAY_LANGUAGES]
    try:
        report = build(out or settings.audio_dir, prompts, max_seconds=settings.voice_max_prompt_s)
    except TtsError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.lines():
        click.echo(line)


@main.group()
def apikey() -> None:
    """Agency API keys."""


@apikey.command("create")
@click.argument("name")
@click.option("--scopes", default=None,
              help="Comma-separated scopes: broadcasts, subscribers, reports, cap, registry "
                   "(default: all but reports).")
@click.option("--countries", default=None, help="Comma-separated ISO codes whose casework this agency handles.")
def apikey_create(name: str, scopes: str | None, countries: str | None) -> None:
    """Create an API key for agency NAME; the key is printed alone on the last line."""
    from outbox.apikeys import create_key

    try:
        key, record = create_key(_cli_redis(), name, scopes.split(",") if scopes is not None else None,
                                 countries.split(",") if countries else None)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created key {record.id} for {record.agency!r} with scopes {', '.join(record.scopes)}; casework of "
               f"{', '.join(record.countries) or 'no country'}. Store it now: only its hash is kept.")
    click.echo(key)


@apikey.command("list")
def apikey_list() -> None:
    """List keys: id, agency, scopes, countries, created, last used (never the key, which is not kept)."""
    from outbox.apikeys import list_keys

    rows = [("ID", "AGENCY", "SCOPES", "COUNTRIES", "CREATED", "LAST USED")]
    rows += [(k.id, k.agency, ",".join(k.scopes), ",".join(k.countries) or "-", k.created_at[:19],
              (k.last_used or "never")[:19]) for k in list_keys(_cli_redis())]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@apikey.command("revoke")
@click.argument("key_id")
def apikey_revoke(key_id: str) -> None:
    """Revoke the key KEY_ID (from `apikey list`); its next request gets 401."""
    from outbox.apikeys import revoke

    if not revoke(_cli_redis(), key_id):
        raise click.ClickException(f"No key with id {key_id!r} (see `gateway apikey list`).")
    click.echo(f"Revoked {key_id}.")


def _cli_redis() -> Redis:
    from .redis_client import connect

    return connect(_with_redis(_settings()))


@main.group()
def user() -> None:
    """People's accounts for the agency console."""


@user.command("create")
@click.argument("email")
@click.option("--agency", required=True, help="The agency's name, as its API keys name it.")
@click.option("--role", type=click.Choice(["viewer", "sender", "caseworker", "admin"]), default="viewer",
              show_default=True, help="What the person may do in the console.")
def user_create(email: str, agency: str, role: str) -> None:
    """Create a console account; the password is read from stdin (at least 12 characters)."""
    from .console.users import UserError, create
    from .redis_client import connect

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    settings = _settings()
    try:
        account = create(connect(_with_redis(settings)), email, agency=agency, role=role, password=password)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {account.role} {account.email} for {account.agency!r}.")


@main.command("seed-demo")
def seed_demo() -> None:
    """Load the demo data: helplines, corridors, demo accounts and subscribers."""
    from .demo import seed
    from .redis_client import connect

    settings = _settings()
    _production_rules(settings, callbacks=False)
    _setup_logging(settings)
    try:
        for line in seed(connect(_with_redis(settings)), settings):
            click.echo(line)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--port", type=int, default=None, help="Port (default: $PORT or 8000).")
def run(port: int | None) -> None:
    """Everything on one machine: embedded Redis, web server, one worker, demo data. Ctrl-C stops it all."""
    import subprocess

    from redis.exceptions import RedisError

    from . import embedded_redis
    from .demo import seed
    from .launch import Children, banner, command_name, wait_ready
    from .launch import _die_with_parent as die_with_parent
    from .redis_client import connect
    from .secrets import SECRET_FILE, TOKEN_FILE, kept_value

    settings = _settings()
    # Made once and kept under the var folder (owner-only), then handed to every child through its environment.
    secret = settings.secret or kept_value(settings.var_dir, SECRET_FILE)
    token = settings.callback_token or kept_value(settings.var_dir, TOKEN_FILE)
    os.environ.update(GATEWAY_SECRET=secret, CALLBACK_TOKEN=token)
    # A newcomer's terminal shows warnings and what the console "sends", not every request and job (LOG_LEVEL=INFO
    # brings them back).
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    settings = _settings()
    _setup_logging(settings)
    port = port or settings.port
    _check_port("127.0.0.1", port)
    click.echo("Starting the gateway: Redis, demo data, web server, outbox worker...")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    started_redis = settings.redis_url is None and not settings.redis_sentinels
    children = Children()
    audio_build: subprocess.Popen[bytes] | None = None
    try:
        resolved = _with_redis(settings)
        try:
            connection = connect(resolved)
            demo_lines = [line for line in seed(connection, resolved) if line.startswith(("Demo account",
                                                                                         "Console login"))]
            connection.close()
        except (ConfigError, RedisError) as exc:
            raise click.ClickException(f"Demo data not loaded: {exc}") from None
        me = [sys.executable, "-m", "gateway"]  # each with REDIS_URL of the embedded server, when it was started
        children.start("web server", [*me, "serve", "--host", "127.0.0.1", "--port", str(port)])
        children.start("outbox worker", [*me, "worker"])
        # The voice prompts' audio, built beside the server (seconds; unchanged prompts are reused); the server
        # uses it as soon as the build is done (gateway.voice.audio). Not a watched child: it ends by itself.
        audio_build = subprocess.Popen([*me, "build-audio"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True, preexec_fn=die_with_parent())
        if wait_ready(f"http://127.0.0.1:{port}/healthz", children, lambda: stopping):
            where = (f"embedded Redis, kept in {Path(settings.var_dir).resolve()}" if started_redis
                     else (resolved.redis_url or "Redis through Sentinel").split("@")[-1])
            click.echo(banner(port=port, token=token, redis_where=where, demo_lines=demo_lines,
                              command=command_name()))
        while not stopping and not children.exited():
            time.sleep(0.1)
    finally:
        failed = children.exited()
        click.echo("\nStopping the gateway...")
        if audio_build is not None and audio_build.poll() is None:
            os.killpg(audio_build.pid, signal.SIGKILL)  # with its espeak-ng children; a rerun redoes the rest
            audio_build.wait()
        children.stop()
        if started_redis:
            embedded_redis.stop(settings.var_dir, timeout=0.8)
        stopped = [*children.procs, *(["embedded Redis"] if started_redis else [])]
        click.echo(f"Stopped: {', '.join(stopped)}.")
    if failed and not stopping:
        raise click.ClickException(f"The {' and '.join(failed)} stopped unexpectedly (its messages are above).")
    # Everything is stopped: leave now. The interpreter's own teardown of this process (every module the demo data
    # loaded) takes seconds on a busy machine, and the terminal would wait for it after "Stopped".
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
