"""``podc completion bash|zsh|fish``: print a shell completion script.

The scripts complete command names, each command's options (read from its parser when the
script is generated, so they never drift), and file names for the rest.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence
from podc.cli.console import HelpFormatter

__all__ = ["main", "script"]

EXAMPLES = """examples:
  podc completion bash > ~/.local/share/bash-completion/completions/podc
  podc completion zsh > "${fpath[1]}/_podc"        # then: autoload -U compinit && compinit
  podc completion fish > ~/.config/fish/completions/podc.fish
  source <(podc completion bash)                   # this shell only
"""

SHELLS = ("bash", "zsh", "fish")
_GLOBAL = ["--quiet", "-q", "--verbose", "-v", "--no-color", "--color", "--help", "--version"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="podc completion", description="Print a shell completion script for podc.",
                                formatter_class=HelpFormatter, epilog=EXAMPLES)
    p.add_argument("shell", choices=SHELLS)
    return p


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    sys.stdout.write(script(args.shell))
    return 0


def command_options() -> dict[str, list[str]]:
    """Each command's long and short options, from its own parser (optional parts skipped)."""
    import importlib

    from podc.cli.main import COMMANDS

    out: dict[str, list[str]] = {}
    for name, (module_name, _, _, _) in COMMANDS.items():
        options: list[str] = []
        try:
            module = importlib.import_module(module_name)
            parser = module.build_parser()
        except Exception:  # noqa: BLE001 - an optional extra missing: complete the name only
            parser = None
        if parser is not None:
            for action in parser._actions:  # argparse has no public list of options
                options.extend(o for o in action.option_strings if o.startswith("--"))
        out[name] = sorted(set(options + ["--help", "--quiet", "--verbose", "--no-color"]))
    return out


def script(shell: str) -> str:
    opts = command_options()
    commands = " ".join(opts)
    if shell == "bash":
        cases = "\n".join(f'        {name}) opts="{" ".join(o)}" ;;' for name, o in opts.items())
        return f"""# bash completion for podc (podc completion bash)
_podc() {{
    local cur cmd opts
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    cmd=""
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in -*) ;; *) cmd="${{COMP_WORDS[i]}}"; break ;; esac
    done
    if [[ -z "$cmd" ]]; then
        COMPREPLY=($(compgen -W "{commands} {' '.join(_GLOBAL)}" -- "$cur"))
        return
    fi
    case "$cmd" in
{cases}
        *) opts="" ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}}
complete -o filenames -F _podc podc
"""
    if shell == "zsh":
        cases = "\n".join(f"        {name}) _arguments '*:file:_files' {' '.join(repr(o) for o in o_)} ;;"
                          for name, o_ in opts.items())
        return f"""#compdef podc
# zsh completion for podc (podc completion zsh)
_podc() {{
    if (( CURRENT == 2 )); then
        compadd -- {commands}
        return
    fi
    case "$words[2]" in
{cases}
        *) _files ;;
    esac
}}
compdef _podc podc
"""
    lines = ["# fish completion for podc (podc completion fish)", "complete -c podc -f"]
    for name in opts:
        lines.append(f"complete -c podc -n '__fish_use_subcommand' -a {name}")
    for name, o_ in opts.items():
        for o in o_:
            lines.append(f"complete -c podc -n '__fish_seen_subcommand_from {name}' -l {o[2:]}")
        lines.append(f"complete -c podc -n '__fish_seen_subcommand_from {name}' -F")
    return "\n".join(lines) + "\n"
