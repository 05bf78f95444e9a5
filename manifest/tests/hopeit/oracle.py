"""Oracle data for appwire's manifest tests, computed by the real hopeit.engine 0.30.1.

For every fixture ``fixtures/X.json`` (with its environment in ``fixtures/X.env.json``) this
script runs hopeit's own ``parse_app_config_json`` and writes ``expected/X.json``. It also
writes ``expected/naming.json``, ``expected/env.json`` and ``expected/lax.json``.

Run it (from any directory):

    python3 -m venv /tmp/hopeit-venv
    /tmp/hopeit-venv/bin/pip install -r manifest/tests/hopeit/requirements-oracle.txt
    /tmp/hopeit-venv/bin/python manifest/tests/hopeit/oracle.py

Every hopeit call runs with an environment holding only the three HOPEIT_* variables
that hopeit sets on import plus the variables of the case, so the output does not depend
on the caller's shell. The output is deterministic.
"""

import json
import math
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

import hopeit.server.version as hopeit_version
from hopeit.app.config import (
    AppConfig,
    AppDescriptor,
    EventPlugMode,
    EventSettings,
    EventType,
    parse_app_config_json,
)
from hopeit.apps_client import AppsClient, AppsClientSettings
from hopeit.dataobjects.payload import Payload
from hopeit.server.api import app_route_name
from hopeit.server.config import replace_env_vars
from hopeit.server.names import auto_path, auto_path_prefixed, route_name

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
EXPECTED = HERE / "expected"

FORCED_ENV = {
    "HOPEIT_ENGINE_VERSION": hopeit_version.ENGINE_VERSION,
    "HOPEIT_APPS_API_VERSION": hopeit_version.APPS_API_VERSION,
    "HOPEIT_APPS_ROUTE_VERSION": hopeit_version.APPS_ROUTE_VERSION,
}
ROUTED = (EventType.GET, EventType.POST, EventType.MULTIPART)  # web.py _setup_app_event_routes
MANAGED = (EventType.STREAM, EventType.SERVICE)


@contextmanager
def environment(env: dict):
    """Run with exactly FORCED_ENV + env in os.environ, then restore the original."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(FORCED_ENV)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def error_of(exc: BaseException) -> dict:
    out = {"error": f"{type(exc).__name__}: {exc}"}
    if isinstance(exc, ValidationError):
        out["validation_errors"] = [
            {"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()
        ]
    return out


def attempt(fn):
    try:
        return fn()
    except Exception as exc:  # pylint: disable=broad-except
        return error_of(exc)


def dump(obj):
    return json.loads(Payload.to_json(obj))


# ---------------------------------------------------------------- fixtures


def load_fixture(name: str):
    text = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
    env = json.loads((FIXTURES / f"{name}.env.json").read_text(encoding="utf-8"))
    with environment(env):
        return parse_app_config_json(text)


def event_routes(app: AppDescriptor, events: dict, plugin: AppDescriptor = None) -> dict:
    """Routes as server/web.py registers them (app routes: Standalone; plugin routes: OnApp)."""
    mode = EventPlugMode.STANDALONE if plugin is None else EventPlugMode.ON_APP
    return {
        name: attempt(
            lambda n=name, e=info: app_route_name(
                app, event_name=n, plugin=plugin, override_route_name=e.route
            )
        )
        for name, info in events.items()
        if info.plug_mode == mode and info.type in ROUTED
    }


def mgmt_routes(app: AppDescriptor, events: dict) -> dict:
    """Base of the GET .../start and .../stop routes (web.py _create_event_management_routes)."""
    return {
        name: attempt(
            lambda n=name, e=info: app_route_name(
                app,
                event_name=n.replace(".", "/").replace("$", "/"),
                prefix="mgmt",
                override_route_name=e.route,
            )
        )
        for name, info in events.items()
        if info.plug_mode == EventPlugMode.STANDALONE and info.type in MANAGED
    }


def fixture_result(config: AppConfig, plugin_configs: dict) -> dict:
    result = {
        "app_key": config.app_key(),
        "config": dump(config),
        "event_routes": event_routes(config.app, config.events),
        "mgmt_routes": mgmt_routes(config.app, config.events),
        "plugin_event_routes": {},
        "connection_settings": {},
        "connection_routes": {},
    }
    for plugin in config.plugins:
        plugin_config = plugin_configs.get(plugin.app_key())
        result["plugin_event_routes"][plugin.app_key()] = (
            None  # no fixture for this plugin
            if plugin_config is None
            else event_routes(config.app, plugin_config.events, plugin=plugin_config.app)
        )
    for conn_key in config.app_connections:
        try:
            client = AppsClient(config, conn_key)  # builds settings + routes, no I/O
        except Exception as exc:  # pylint: disable=broad-except
            client, failure = None, error_of(exc)
        result["connection_settings"][conn_key] = (
            failure if client is None else dump(client.settings)
        )
        for event_name, info in config.events.items():
            for conn in info.connections:
                if conn.app_connection == conn_key:
                    key = f"{event_name}/{conn_key}/{conn.event}"
                    result["connection_routes"][key] = (
                        failure if client is None else client.routes[conn.event]
                    )
    return result


def run_fixtures():
    names = sorted(p.name[: -len(".json")] for p in FIXTURES.glob("*.json")
                   if not p.name.endswith(".env.json"))
    configs = {}
    for name in names:
        try:
            configs[name] = load_fixture(name)
        except Exception as exc:  # pylint: disable=broad-except
            configs[name] = error_of(exc)
    plugin_configs = {c.app_key(): c for c in configs.values() if isinstance(c, AppConfig)}
    for name, config in configs.items():
        out = config if isinstance(config, dict) else fixture_result(config, plugin_configs)
        write(f"{name}.json", out)


# ---------------------------------------------------------------- naming

ROUTE_COMPONENTS = [
    ["api", "simple-example", "0.30", "list_somethings"],
    ["api", "simple-example", "0x30", "collector", "query_concurrently"],
    ["CamelCase"], ["camelCase"], ["HTTPServer"], ["getHTTPResponse"], ["ABC"],
    ["Leading"], ["already-spinal"], ["snake_case_name"], ["double__under"],
    ["with space"], ["tab\tsep"], ["multi  space"], ["dash-Then-Caps"], ["v1.2.3"],
    ["1.0"], ["0.30.1-rc.1"], ["event2Go"], ["x_Y_z"], ["_leading_underscore"],
    ["-leading-dash"], ["trailing_"], [""], ["", ""], [], ["Évent"], ["über.Straße"],
    ["Ñandú_ÁB"], ["a/b_C"], ["custom/route_B"], ["abs/Route.v1/x_y"], ["UPPER"],
    ["mixed.Dots.And_Under-score"], ["A"], ["a"], ["9lives"], ["x.y"],
]

APP_ROUTE_CASES = [
    # (app, version, event, plugin or None, override or None, prefix)
    ("simple-example", "0.30", "list_somethings", None, None, "api"),
    ("simple-example", "0.30", "collector.query_concurrently", None, None, "api"),
    ("simple-example", "0.30", "login", ("basic-auth", "0.30"), None, "api"),
    ("My.Cool App_v2-X", "1.2.3-beta", "HTTPServer.getURL", None, None, "api"),
    ("client-example", "0.30", "count_and_save", None, None, "api"),
    ("app", "1.0", "ev", None, "custom/route_B", "api"),
    ("app", "1.0", "ev", None, "/abs/Route.v1/x_y", "api"),
    ("app", "1.0", "ev", None, "/", "api"),
    ("app", "1.0", "ev", None, "", "api"),
    ("app", "1.0", "ev", None, "//double/slash", "api"),
    ("app", "1.0", "ev", None, "trailing/", "api"),
    ("app", "1.0", "ev", None, "simple-example/0x30/query-something", "api"),
    ("app", "1.0", "ev", ("plug", "2.0"), "over/ride", "api"),
    ("app", "1.0", "stream/Worker", None, None, "mgmt"),
    ("app", "1.0", "stream/Worker", None, "svc/custom", "mgmt"),
    ("app", "1.0", "stream/Worker", None, "/svc/abs", "mgmt"),
    ("App", "V1", "Évent.über", ("Auth.Plugin", "1.0"), None, "api"),
    ("a", "1", "trailing.", None, None, "api"),
    ("a", "1", ".leading", None, None, "api"),
    ("a", "1", "", None, None, "api"),
]

APP_KEYS = [
    ("simple-example", "0.30"), ("myApp", "0.30"), ("My.Cool App_v2-X", "1.2.3-beta"),
    ("HTTPServer", "1.0"), ("stream-lab", "0.30"), ("EnvLab", "0.1"), ("Évent", "v2"),
    ("a b", "1 0"), ("x", "1.0-RC1"), ("basic-auth", "0.30"),
]

AUTO_PATHS = [
    ("stream_lab.0x30", ["stream", "reader"]),
    ("stream_lab.0x30", ["producer"]),
    ("stream_lab.0x30", ["stream.ReaderTwo"]),
    ("stream_lab.0x30", ["shared", "Camel.Key"]),
    ("env_lab.0x1", ["with space", "dash-key"]),
    ("x.1x0", ["HTTPServer.getURL"]),
]


def run_naming():
    cases = []
    for components in ROUTE_COMPONENTS:
        case = {"components": components}
        case.update(attempt(lambda c=components: {"route": route_name(*c)}))
        cases.append(case)
    for name, version, event, plugin, override, prefix in APP_ROUTE_CASES:
        case = {
            "app": [name, version],
            "event_name": event,
            "plugin": None if plugin is None else list(plugin),
            "override": override,
            "prefix": prefix,
        }
        case.update(attempt(lambda: {"route": app_route_name(
            AppDescriptor(name=name, version=version),
            event_name=event,
            plugin=None if plugin is None else AppDescriptor(name=plugin[0], version=plugin[1]),
            prefix=prefix,
            override_route_name=override,
        )}))
        cases.append(case)
    for name, version in APP_KEYS:
        cases.append({"app": [name, version], "app_key": AppDescriptor(name, version).app_key(),
                      "auto_path": auto_path(name, version)})
    for prefix, keys in AUTO_PATHS:
        path_parts = [part for key in keys for part in key.split(".")]  # as replace_config_args
        cases.append({"auto_prefix": prefix, "keys": keys,
                      "auto": auto_path_prefixed(prefix, *path_parts)})
    write("naming.json", cases)


# ---------------------------------------------------------------- env expansion

ENV_CASES = [
    ("${FOO}", {"FOO": "bar"}),
    ("${foo}", {"FOO": "bar"}),
    ("${Foo_Bar}", {"FOO_BAR": "x"}),
    ("${foo}", {"foo": "lower-only"}),
    ("${MISSING}", {}),
    ("${A}-${B}-${A}-${C}", {}),
    ("${A}-${B}", {"A": "1"}),
    ("${X:-default}", {}),
    ("${X:-default}", {"X:-DEFAULT": "weird"}),
    ("$X and $X", {"X": "1"}),
    ("${}", {}),
    ("${a{b}", {"B": "1", "A{B": "2"}),
    ("${X", {"X": "1"}),
    ("x ${X", {}),
    ("${${X}}", {"X": "Y", "Y": "z"}),
    ("${ X }", {"X": "1"}),
    ("${ X }", {" X ": "spaced"}),
    ("${X}", {"X": "${Y}"}),
    ("${X}${Y}", {"X": "${Y}", "Y": "why"}),
    ("${Y}${X}", {"X": "${Y}", "Y": "why"}),
    ("${X}", {"X": "${UNSET_INNER}"}),
    ("${X}/${X}", {"X": "twice"}),
    ('{"${KEY}": "${KEY}"}', {"KEY": "k"}),
    ('{"retries": ${N}}', {"N": "3"}),
    ("${é}", {"É": "accent"}),
    ("${straße}", {"STRASSE": "upper-ss"}),
    ("${straße}", {"STRAßE": "sharp-s"}),
    ("${X}", {"X": ""}),
    ("${X}", {"X": 'quo"te'}),
    ("$${X}", {"X": "1"}),
    ("\\${X}", {"X": "1"}),
    ("${HOPEIT_APPS_API_VERSION}/${hopeit_apps_route_version}", {}),
    ("{X}", {"X": "1"}),
    ("${X}}", {"X": "1"}),
    ("${1}", {"1": "digit"}),
    ("${a-b.c}", {"A-B.C": "punct"}),
]


def run_env():
    cases = []
    for text, env in ENV_CASES:
        case = {"text": text, "env": env}
        with environment(env):
            try:
                case["result"] = replace_env_vars(text)
            except AssertionError as exc:
                case["error"] = str(exc)
                case["error_type"] = type(exc).__name__
        cases.append(case)
    write("env.json", cases)


# ---------------------------------------------------------------- pydantic lax mode

INT_VALUES = ["3", " 3", "3 ", "+3", "-3", "3.0", "3.5", "0x10", "1_000", "", 3, 3.0, 3.5,
              -1, 1e2, True, False, None, [3], {"a": 3}, 10**20]
BOOL_VALUES = ["false", "False", "FALSE", "no", "off", "0", "1", "yes", "on", "true", "True",
               "t", "f", "y", "n", " true", "", 0, 1, 2, 0.0, 1.0, None]
STR_VALUES = ["text", "", 3, 3.5, True, None, ["a"]]
ENUM_VALUES = ["UNSECURED", "unsecured", "Unsecured", " UNSECURED", 1, None]
DICT_VALUES = [{"e": "r"}, {"e": 3}, {"e": None}, [], None]
FLOAT_VALUES = ["1", "1.5", " 1.5", "1e3", "inf", "nan", "", 1, 1.5, True, None]


def accepted(obj, path):
    """Value at path of a parsed object (python mode, so inf/nan survive), or "ignored"."""
    got = Payload.to_obj(obj)
    for part in path:
        if part not in got:
            return {"ignored": True}  # unknown keys are dropped silently
        got = got[part]
    if isinstance(got, float) and not math.isfinite(got):
        return {"accepted_non_finite_float": repr(got)}
    return {"accepted": got}


def from_obj_case(datatype, base: dict, field: str, value):
    data = {**base, field: value}
    return attempt(lambda: accepted(Payload.from_obj(data, datatype), [field]))

    return attempt(run)


def from_json_case(path, value):
    doc = {"app": {"name": "lax", "version": "1.0"}}
    node = doc
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    text = json.dumps(doc)

    return {"json": text, **attempt(lambda: accepted(Payload.from_json(text, AppConfig), path))}


def run_lax():
    cases = []
    client = (AppsClientSettings, {"connection_str": "http://h:1"})
    event_settings = (EventSettings, {})
    via_obj = [
        (client, "retries", INT_VALUES),
        (client, "ssl", BOOL_VALUES),
        (client, "connection_str", STR_VALUES),
        (client, "auth_strategy", ENUM_VALUES),
        (client, "routes_override", DICT_VALUES),
        (client, "unknown_setting", [1]),
        (event_settings, "response_timeout", FLOAT_VALUES),
    ]
    for (datatype, base), field, values in via_obj:
        for value in values:
            cases.append({"via": f"Payload.from_obj({datatype.__name__})", "field": field,
                          "input": value, **from_obj_case(datatype, base, field, value)})
    via_json = [
        (["engine", "read_stream_timeout"], INT_VALUES),
        (["env", "section", "flag"], BOOL_VALUES + ["x", 3, 3.5]),
        (["app", "name"], STR_VALUES),
        (["app", "version"], ["", "0.30", 1.0]),
        (["server", "logging", "console_only"], BOOL_VALUES),
        (["server", "streams", "initial_backoff_seconds"], FLOAT_VALUES),
        (["engine", "cors_origin"], [None, 3]),
        (["engine", "default_stream_compression"], ["LZ4", "lz4", "gzip:5", None]),
        (["engine", "track_headers"], [None, [], "caller", [1], ["caller", "request_id"],
                                      ["request_ts"], ["track.request_id", "x"]]),
        (["events", "e", "type"], ["GET", "get", "PUT"]),
        (["events", "e"], [{"type": "GET", "plug_mode": "onapp"},
                           {"type": "GET", "auth": ["basic"]},
                           {"type": "GET", "connections": [{"app_connection": "c", "event": "x",
                                                            "type": "STREAM"}]},
                           {"type": "GET", "route": None},
                           {"type": "GET", "group": None}]),
        (["settings", "s"], ["not-a-dict", {"k": None}]),
        (["plugins"], [[{"name": "p", "version": ""}]]),
        (["unknown_top_level"], [1]),
    ]
    for path, values in via_json:
        for value in values:
            cases.append({"via": "Payload.from_json(AppConfig)", "field": ".".join(path),
                          "input": value, **from_json_case(path, value)})
    write("lax.json", cases)


# ----------------------------------------------------------------


def write(name: str, data):
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    (EXPECTED / name).write_text(text, encoding="utf-8")


def main():
    EXPECTED.mkdir(exist_ok=True)
    run_fixtures()
    run_naming()
    run_env()
    run_lax()
    print(f"hopeit.engine {hopeit_version.ENGINE_VERSION}: wrote {EXPECTED}", file=sys.stderr)


if __name__ == "__main__":
    main()
