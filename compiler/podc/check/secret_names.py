"""Which environment variable names look like they hold a secret.

A name is split into words (on ``_``, ``-``, ``.`` and camelCase boundaries, digits apart), so
``DAGSTER_RUN_STEP_KEY``, ``PRIMARY_KEY`` and ``MONKEY`` do not match merely because they contain
"KEY". A name looks secret when

* one of its words is a secret word (``DB_PASSWORD``, ``GITHUB_TOKEN``, ``apiKey`` → ``API KEY``
  is a pair, ``APIKEY`` is a word), or
* it contains a secret pair of consecutive words (``AWS_SECRET_ACCESS_KEY`` → ``ACCESS KEY``), or
* one of its words contains a secret substring (``PGPASSWORD``),

unless it ends with words saying the value only points at or describes the secret (``PASSWORD_FILE``,
``TOKEN_URL``, ``SECRET_NAME``, ``TOKEN_TTL``) or the whole name is allow-listed (``PWD``, the
shell's working directory). All the word lists are rule parameters (``literal-secret-env`` in
``policies/best-practices/pack.yaml``), so a project can extend them.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

__all__ = ["SecretNames", "split_words", "secret_names"]

# An acronym before a capitalised word (API|Key), a capitalised or lower-case word, an
# all-caps run, or digits. Separators (_ - . and anything else) are skipped.
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

PARAM_NAMES = ("words", "pairs", "substrings", "ignoreSuffixes", "allowNames")


def split_words(name: str) -> tuple[str, ...]:
    """``apiKey`` → (API, KEY); ``AWS_SECRET_ACCESS_KEY`` → (AWS, SECRET, ACCESS, KEY)."""
    return tuple(w.upper() for w in _WORD.findall(name))


@dataclass(frozen=True)
class SecretNames:
    words: frozenset[str]
    pairs: tuple[tuple[str, ...], ...]
    substrings: tuple[str, ...]
    ignore_suffixes: tuple[tuple[str, ...], ...]  # word sequences a name may end with
    allow_names: frozenset[str]
    # name -> match: the same env var names recur in every Job of a project
    _memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def match(self, name: str) -> str | None:
        """What makes ``name`` look secret (``PASSWORD``, ``ACCESS_KEY``…), or None."""
        memo = self._memo
        if name in memo:
            return memo[name]
        found = memo[name] = self._match(name)
        return found

    def _match(self, name: str) -> str | None:
        words = split_words(name)
        if not words or "_".join(words) in self.allow_names:
            return None
        if any(words[-len(suffix):] == suffix for suffix in self.ignore_suffixes):
            return None
        for word in words:
            if word in self.words:
                return word
        for pair in self.pairs:
            n = len(pair)
            if any(words[i:i + n] == pair for i in range(len(words) - n + 1)):
                return "_".join(pair)
        for word in words:
            hit = next((s for s in self.substrings if s in word), None)
            if hit:
                return hit
        return None


def _strings(value: Any) -> tuple[str, ...]:
    """A parameter as strings; a single string is a one-item list."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(str(v).strip() for v in value if v is not None and str(v).strip())


def secret_names(params: Mapping[str, Any]) -> SecretNames:
    """The matcher for a rule's merged parameters (cached: called for every document)."""
    # Usually the same parameters object for every document: reuse its matcher while the object
    # still equals the deep copy taken with it (a C-level comparison, unlike re-deriving the key).
    hit = _by_params.get(id(params))
    if hit is not None and hit[0] is params and hit[1] == params:
        return hit[2]
    names = _build(tuple((k, _strings(params.get(k))) for k in PARAM_NAMES))
    if len(_by_params) >= 64:
        _by_params.clear()
    _by_params[id(params)] = (params, copy.deepcopy(params), names)
    return names


_by_params: dict[int, tuple[Mapping[str, Any], Any, SecretNames]] = {}


@lru_cache(maxsize=64)
def _build(key: tuple[tuple[str, tuple[str, ...]], ...]) -> SecretNames:
    p = dict(key)
    # Words and pairs are written with any separator (API_KEY, api-key, apiKey); compare words.
    words = frozenset(w for item in p["words"] for w in ["".join(split_words(item))] if w)
    pairs = tuple(sorted({split_words(item) for item in p["pairs"] if len(split_words(item)) > 1}))
    return SecretNames(words, pairs, tuple(sorted({s.upper() for s in p["substrings"]})),
                       tuple(sorted({split_words(item) for item in p["ignoreSuffixes"] if split_words(item)})),
                       frozenset("_".join(split_words(n)) for n in p["allowNames"]))
