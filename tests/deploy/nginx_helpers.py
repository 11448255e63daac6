"""deploy/nginx.conf read as a tree of directives, and copied to run on loopback."""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.deploy_helpers import MIB


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None

    def find(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]

    def value(self, name: str) -> list[str] | None:
        found = self.find(name)
        return found[-1].args if found else None


def _tokens(text: str) -> Iterator[str]:
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif c in "{};":
            yield c
            i += 1
        elif c in "'\"":
            end = i + 1
            while text[end] != c:
                end += 2 if text[end] == "\\" else 1
            yield text[i + 1 : end]
            i = end + 1
        else:
            end = i
            while end < len(text) and not text[end].isspace() and text[end] not in "{};":
                end += 1
            yield text[i:end]
            i = end


def parse_nginx(text: str) -> Directive:
    """The config as a tree of directives (enough of nginx's grammar for this file)."""
    root = Directive("main", [], [])
    stack = [root]
    words: list[str] = []
    for token in _tokens(text):
        if token == ";":
            assert stack[-1].block is not None
            stack[-1].block.append(Directive(words[0], words[1:]))
            words = []
        elif token == "{":
            block = Directive(words[0], words[1:], [])
            assert stack[-1].block is not None
            stack[-1].block.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            stack.pop()
        else:
            words.append(token)
    assert len(stack) == 1 and not words, "unbalanced braces"
    return root


def server_of(conf: Directive) -> Directive:
    (http,) = conf.find("http")
    (server,) = http.find("server")
    return server


def upstreams_of(conf: Directive) -> dict[str, list[str]]:
    (http,) = conf.find("http")
    return {u.args[0]: [s.args[0] for s in u.find("server")] for u in http.find("upstream")}


def route(server: Directive, path: str) -> Directive:
    """The location nginx picks for `path`: an exact match, else the longest prefix."""
    locations = server.find("location")
    assert not any(loc.args[0] in {"~", "~*"} for loc in locations), "regex locations"
    for loc in locations:
        if loc.args[0] == "=" and loc.args[1] == path:
            return loc
    prefixes = [loc for loc in locations if len(loc.args) == 1 and path.startswith(loc.args[0])]
    return max(prefixes, key=lambda loc: len(loc.args[0]))


def size_of(value: str) -> int:
    units = {"k": 1024, "m": MIB, "g": 1024 * MIB}
    return int(value[:-1]) * units[value[-1].lower()] if value[-1].isalpha() else int(value)


def seconds(value: str) -> int:
    return int(value[:-1]) * {"s": 1, "m": 60}[value[-1]] if value[-1].isalpha() else int(value)


def setting(server: Directive, location: Directive, name: str) -> str | None:
    found = location.value(name) or server.value(name)
    return found[0] if found else None


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def loopback_copy(text: str, *, tmp: Path, port: int, hosts: dict[str, int]) -> str:
    """deploy/nginx.conf with its upstream hosts, port, pid and temp paths on loopback."""
    if os.geteuid() == 0:
        user = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        text = re.sub(r"^user .*;$", f"user {user} {group};", text, flags=re.M)
    else:
        text = re.sub(r"^user .*;$", "", text, flags=re.M)
    text = re.sub(r"^pid .*;$", f"pid {tmp}/nginx.pid;", text, flags=re.M)
    text = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", text)
    for host, stub_port in hosts.items():
        text = text.replace(f"server {host}:8000;", f"server 127.0.0.1:{stub_port};")
    temp = f"client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;"
    text = text.replace("http {", "http {\n    " + temp, 1)
    assert "8000;" not in text, "an upstream host was not rewritten"
    return text
