"""The one rule set that decides "secret-looking", for ``podc check``, ``podc explain``, error
messages, runtime logs and Dagster events (a leaf module: it imports nothing of podc).

**By name.** A name is split into words (on ``_``, ``-``, ``.`` and camelCase boundaries, digits
apart), so ``DAGSTER_RUN_STEP_KEY``, ``PRIMARY_KEY`` and ``MONKEY`` do not match merely because
they contain "KEY". A name looks secret when

* one of its words is a secret word (``DB_PASSWORD``, ``GITHUB_TOKEN``, ``MYSQL_PWD``, ``AWS_CREDS``,
  ``apiKey`` → ``API KEY`` is a pair, ``APIKEY`` is a word), or
* it contains a secret pair of consecutive words (``AWS_SECRET_ACCESS_KEY`` → ``ACCESS KEY``), or
* one of its words contains a secret substring (``PGPASSWORD``),

unless it ends with words saying the value only points at or describes the secret
(``PASSWORD_FILE``, ``TOKEN_URL``, ``SECRET_NAME``, ``TOKEN_TTL``), or the whole name is
allow-listed (``PWD``, the shell's working directory). The weaker suffixes ``ID``, ``HOST`` and
``PORT`` exempt a name only when it has no strong secret word: ``AWS_ACCESS_KEY_ID`` is an
identifier, ``AWS_SECRET_KEY_ID`` and ``DB_PASSWORD_HOST`` are not exempt.

**By value.** PEM private keys, JWTs, well-known token prefixes (GitHub ``ghp_``/``github_pat_``,
Slack ``xox?-``, AWS ``AKIA``/``ASIA``, Stripe ``sk_live_``, GitLab ``glpat-``, Google ``AIza``…),
URLs and DSNs with a password (``postgres://u:pw@host``) and ``Bearer …`` credentials.

The name lists are the parameters of the ``literal-secret-env`` best-practices rule, so a project
can extend them for ``podc check``; everything else uses :data:`DEFAULTS`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Mapping

from podc._record import field, record

__all__ = ["SecretNames", "DEFAULTS", "PARAM_NAMES", "MASK", "split_words", "secret_names", "name_match",
           "value_match", "looks_secret", "redact", "redact_text"]

MASK = "****"
_REDACTED = "<redacted>"

DEFAULTS: dict[str, tuple[str, ...]] = {
    "words": ("PASSWORD", "PASSWD", "PWD", "PASS", "PASSPHRASE", "TOKEN", "SECRET", "CREDENTIAL", "CREDENTIALS",
              "CREDS", "APIKEY", "PRIVATEKEY", "ACCESSKEY", "SECRETKEY", "AUTHKEY"),
    "pairs": ("API_KEY", "ACCESS_KEY", "SECRET_KEY", "PRIVATE_KEY", "SIGNING_KEY", "ENCRYPTION_KEY", "AUTH_KEY",
              "MASTER_KEY", "CLIENT_SECRET"),
    "substrings": ("PASSWORD", "PASSWD"),
    "ignoreSuffixes": ("FILE", "PATH", "DIR", "URL", "URI", "ENDPOINT", "TTL", "EXPIRY", "TIMEOUT", "NAME",
                       "ENABLED"),
    "weakSuffixes": ("ID", "HOST", "PORT"),
    "strongWords": ("PASSWORD", "PASSWD", "PWD", "PASS", "PASSPHRASE", "SECRET", "CREDENTIAL", "CREDENTIALS",
                    "CREDS", "PRIVATEKEY", "SECRETKEY"),
    "allowNames": ("PWD", "OLDPWD"),
}
PARAM_NAMES = tuple(DEFAULTS)

# An acronym before a capitalised word (API|Key), a capitalised or lower-case word, an
# all-caps run, or digits. Separators (_ - . and anything else) are skipped.
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def split_words(name: str) -> tuple[str, ...]:
    """``apiKey`` → (API, KEY); ``AWS_SECRET_ACCESS_KEY`` → (AWS, SECRET, ACCESS, KEY)."""
    return tuple(w.upper() for w in _WORD.findall(name))


@record(frozen=True)
class SecretNames:
    words: frozenset[str]
    pairs: tuple[tuple[str, ...], ...]
    substrings: tuple[str, ...]
    ignore_suffixes: tuple[tuple[str, ...], ...]  # word sequences a name may end with
    weak_suffixes: tuple[tuple[str, ...], ...]    # exempt only names without a strong word
    strong_words: frozenset[str]
    allow_names: frozenset[str]
    # name -> match: the same env var names recur in every Job of a project (bounded)
    _memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def match(self, name: str) -> str | None:
        """What makes ``name`` look secret (``PASSWORD``, ``ACCESS_KEY``…), or None."""
        memo = self._memo
        if name in memo:
            return memo[name]
        found = self._match(name)
        if len(memo) < 8192:
            memo[name] = found
        return found

    def _match(self, name: str) -> str | None:
        words = split_words(name)
        if not words or "_".join(words) in self.allow_names:
            return None
        if any(words[-len(suffix):] == suffix for suffix in self.ignore_suffixes):
            return None
        if any(words[-len(suffix):] == suffix for suffix in self.weak_suffixes) and not self._strong(words):
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

    def _strong(self, words: tuple[str, ...]) -> bool:
        return any(w in self.strong_words or any(s in w for s in self.substrings) for w in words)


def _strings(value: Any) -> tuple[str, ...]:
    """A parameter as strings; a single string is a one-item list."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(str(v).strip() for v in value if v is not None and str(v).strip())


def secret_names(params: Mapping[str, Any] | None = None) -> SecretNames:
    """The matcher for (a rule's merged) parameters; a missing one takes its default. Cached:
    the checker asks once per document, nearly always with one of a few parameters objects."""
    if params is not None:
        hit = _by_params.get(id(params))
        if hit is not None and hit[0] is params:
            return hit[1]
    found = _build(tuple((k, _strings(params[k]) if params and k in params else DEFAULTS[k]) for k in PARAM_NAMES))
    if params is not None:
        if len(_by_params) >= 16:
            _by_params.clear()
        _by_params[id(params)] = (params, found)  # held, so the id cannot be reused meanwhile
    return found


_by_params: dict[int, tuple[Any, SecretNames]] = {}


@lru_cache(maxsize=64)
def _build(key: tuple[tuple[str, tuple[str, ...]], ...]) -> SecretNames:
    p = dict(key)
    # Words and pairs are written with any separator (API_KEY, api-key, apiKey); compare words.
    words = frozenset(w for item in p["words"] for w in ["".join(split_words(item))] if w)
    pairs = tuple(sorted({split_words(item) for item in p["pairs"] if len(split_words(item)) > 1}))
    suffixes = lambda k: tuple(sorted({split_words(item) for item in p[k] if split_words(item)}))  # noqa: E731
    return SecretNames(words, pairs, tuple(sorted({s.upper() for s in p["substrings"]})),
                       suffixes("ignoreSuffixes"), suffixes("weakSuffixes"),
                       frozenset("".join(split_words(w)) for w in p["strongWords"]),
                       frozenset("_".join(split_words(n)) for n in p["allowNames"]))


def name_match(name: str) -> str | None:
    """What makes ``name`` look secret under the default rules, or None."""
    return secret_names().match(name)


# ---- values ----------------------------------------------------------------------------------
# Each pattern matches the secret part only (a URL keeps its scheme, user and host).
_VALUE_PATTERNS: tuple[tuple[str, str], ...] = (  # compiled on first use: most runs see no candidate
    ("a PEM private key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
                         r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*)"),
    ("a JWT", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,}"),
    ("a GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    ("a Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("an AWS access key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("a Stripe key", r"\b(?:sk|rk)_live_[0-9A-Za-z]{10,}"),
    ("a GitLab token", r"\bglpat-[0-9A-Za-z_-]{20,}"),
    ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("an npm token", r"\bnpm_[A-Za-z0-9]{36}"),
    ("a Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}"),
    ("a bearer credential", r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/-]{8,}=*"),
    ("a basic-auth credential", r"(?i)(?<=\bbasic )[A-Za-z0-9+/]{8,}=*"),
    # scheme://user:password@host -- the password only; a $(VAR) / ${VAR} reference is no secret
    ("a URL with a password", r"(?<=://)(?:[^/\s:@]*):((?!\$[({])[^/\s@]+)(?=@)"),
)


# A literal piece each pattern needs (lower case: compared with the lowered text), so most
# strings are cleared by a few substring tests instead of thirteen regular expressions.
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "a PEM private key": ("private key",), "a JWT": ("eyj",), "a GitHub token": ("gh", "github_pat_"),
    "a Slack token": ("xox",), "an AWS access key": ("akia", "asia"), "a Stripe key": ("_live_",),
    "a GitLab token": ("glpat-",), "a Google API key": ("aiza",), "an npm token": ("npm_",),
    "a Hugging Face token": ("hf_",), "a bearer credential": ("bearer ",),
    "a basic-auth credential": ("basic ",), "a URL with a password": ("://",),
}


_ANY_TRIGGER = re.compile("|".join(sorted({re.escape(t) for ts in _TRIGGERS.values() for t in ts})))


def _candidates(text: str) -> list[tuple[str, re.Pattern[str]]]:
    low = text.lower()
    if not _ANY_TRIGGER.search(low):
        return []
    return [(what, _pattern(source)) for what, source in _VALUE_PATTERNS
            if any(t in low for t in _TRIGGERS[what])]


@lru_cache(maxsize=None)
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


def value_match(value: Any) -> str | None:
    """What makes ``value`` look like a secret (``a GitHub token``…), or None."""
    if not isinstance(value, str) or len(value) < 8:
        return None
    for what, pattern in _candidates(value):
        if pattern.search(value):
            return what
    return None


def looks_secret(name: Any, value: Any = None) -> bool:
    """The one question: is (``name``, ``value``) secret-looking, by name or by value?"""
    return (isinstance(name, str) and name_match(name) is not None) or value_match(value) is not None


def redact(name: Any, value: Any) -> Any:
    """``value`` as it may be shown: :data:`MASK` when the pair looks secret, else ``value`` with any
    secret-looking part (a password in a URL, a token in a command line) replaced."""
    if isinstance(name, str) and name_match(name) is not None and value not in (None, ""):
        return MASK
    return redact_text(value) if isinstance(value, str) else value


def redact_text(text: str) -> str:
    """Free text (a message, a log line, an argument) with every secret-looking value replaced."""
    if not isinstance(text, str) or len(text) < 8:
        return text
    for what, pattern in _candidates(text):
        if what == "a URL with a password":
            text = pattern.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + _REDACTED, text)
        else:
            text = pattern.sub(_REDACTED, text)
    return text
