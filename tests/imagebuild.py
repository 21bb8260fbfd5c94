"""The image's build without docker: read the Dockerfile and .dockerignore and do what they say.

`build(dest, python)` copies the build context (the working tree less .dockerignore's patterns)
to `dest/context`, creates a virtualenv, and runs the Dockerfile's instructions in order: ENV sets
variables, WORKDIR/COPY copy from the context into `dest/app`, RUN runs the shell line with the
virtualenv's `pip` and `python` first on PATH. Only what needs root in a container (`useradd`)
is skipped, and pip's cache is used (the image turns it off to stay small). The smoke test builds
from the Dockerfile itself, so the two cannot drift apart.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# RUN lines that only make sense as root inside a container.
SKIPPED_RUN_PREFIXES = ("useradd ",)
# ENV entries the smoke deliberately overrides: the image keeps no pip cache, the test reuses it.
SKIPPED_ENV = {"PIP_NO_CACHE_DIR"}


def instructions(text: str | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text() if text is None else text
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line = (pending + line).strip()
        pending = ""
        name, _, args = line.partition(" ")
        result.append((name.upper(), args.strip()))
    return result


def ignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _regex(pattern: str) -> re.Pattern:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def ignored(relative: str, patterns: list[str]) -> bool:
    """Docker's rules, as far as this project uses them: a pattern matches a whole path relative
    to the context root (`*` stays within one directory, `**/` matches any depth), and a matched
    directory excludes everything below it."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    regexes = [_regex(p.strip("/")) for p in patterns if not p.startswith("!")]
    return any(r.fullmatch(prefix) for r in regexes for prefix in prefixes)


def context_files(root: Path = ROOT) -> list[str]:
    """Files of the build context (relative, posix), .dockerignore applied."""
    patterns = ignore_patterns()
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = [d for d in dirnames if not ignored(rel_dir + d, patterns)]
        found += [rel_dir + f for f in filenames if not ignored(rel_dir + f, patterns)]
    return sorted(found)


@dataclass
class Build:
    app: Path
    venv: Path
    env: dict[str, str]
    cmd: list[str]
    steps: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


def build(dest: Path, python: str, env: dict[str, str], log: Path) -> Build:
    context = dest / "context"
    for rel in context_files():
        target = context / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    venv = dest / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    app = dest / "app"
    app.mkdir()
    env = {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}"}
    env["VIRTUAL_ENV"] = str(venv)
    result = Build(app=app, venv=venv, env=env, cmd=[])
    workdir = app
    with log.open("a") as out:
        for name, args in instructions():
            if name == "ENV":
                for item in shlex.split(args):
                    key, _, value = item.partition("=")
                    if key not in SKIPPED_ENV:
                        result.env[key] = value
            elif name == "WORKDIR":
                workdir = app if args == "/app" else app / args.lstrip("/")
                workdir.mkdir(parents=True, exist_ok=True)
            elif name == "COPY":
                *sources, copy_to = shlex.split(args)
                goal = workdir / copy_to
                into_dir = copy_to.endswith(("/", ".")) or len(sources) > 1
                for source in sources:
                    origin = context / source
                    if origin.is_dir():
                        shutil.copytree(origin, goal, dirs_exist_ok=True)
                    elif into_dir:
                        goal.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(origin, goal / origin.name)
                    else:
                        goal.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(origin, goal)
            elif name == "RUN":
                if args.startswith(SKIPPED_RUN_PREFIXES):
                    result.skipped.append(args)
                    continue
                out.write(f"\n$ {args}\n")
                out.flush()
                completed = subprocess.run(
                    ["sh", "-c", args],
                    cwd=workdir,
                    env=result.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=900,
                )
                if completed.returncode != 0:
                    raise AssertionError(
                        f"Dockerfile step failed ({completed.returncode}): RUN {args}\n"
                        + log.read_text()[-6000:]
                    )
                result.steps.append(args)
            elif name == "CMD":
                result.cmd = json.loads(args)
            elif name not in {"FROM", "USER", "EXPOSE", "LABEL", "ARG"}:
                raise AssertionError(f"The smoke test does not know the instruction {name}")
    result.app = workdir
    return result
