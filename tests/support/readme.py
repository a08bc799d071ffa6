"""The commands of the README, read from it: the two at the top and the first-run recipe (tests run
what a newcomer copies, not a copy of it)."""

from __future__ import annotations

import re
import shlex

from tests.support.processes import REPO_ROOT

README = REPO_ROOT / "README.md"
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def code_blocks(section: str | None = None) -> list[str]:
    """The fenced blocks of the README, or of one `## ` section of it."""
    text = README.read_text()
    if section is not None:
        text = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [body for _lang, body in FENCE.findall(text)]


def top_commands() -> list[list[str]]:
    """The commands of the README's first block, each split as a shell would."""
    return [shlex.split(line, comments=True) for line in code_blocks()[0].splitlines() if line]


def first_run() -> tuple[dict[str, str], list[list[str]]]:
    """The first-run recipe: the `.env` it writes (name -> value) and the commands after it."""
    block = code_blocks("First run")[0]
    heredoc = re.search(r"cat > \.env <<'END'\n(.*?)\nEND\n", block, re.S)
    assert heredoc is not None, "the first run writes .env with a heredoc"
    settings = dict(line.split("=", 1) for line in heredoc.group(1).splitlines())
    rest = block[heredoc.end() :]
    return settings, [shlex.split(line) for line in rest.splitlines() if line.strip()]
