"""The fast reader's character screen: the one regex that sends unusual text to the full loader
(rewritten for start-up speed) must match exactly the characters outside YAML's printable set.
How scalars are typed is tested against kustomize in tests/differential and tests/source."""

from __future__ import annotations

import re

from podc.source import fastyaml


def test_unusual_characters_are_exactly_those_outside_the_accepted_ranges():
    accepted = re.compile("[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
    text = "".join(map(chr, range(0x110000)))
    unusual = {m.start() for m in fastyaml._UNUSUAL.finditer(text)}
    assert unusual == {m.start() for m in re.finditer(f"(?!{accepted.pattern}).", text, re.S)}
