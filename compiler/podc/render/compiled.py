"""What a compile produces: a Job manifest and the origin of every value in it.

Kept apart from the renderer so the checks and the explain view can name these types without
importing the renderer that imports them.
"""

from __future__ import annotations

from typing import Mapping

from podc._record import field, record
from podc.errors import Pos

__all__ = ["ValueOrigin", "CompiledJob", "DEFAULTS_LAYER"]

DEFAULTS_LAYER = "podc:defaults"  # the layer name of podc's built-in secure defaults


@record(frozen=True, slots=True)
class ValueOrigin:
    """Which layer set a value (``pos`` in its source) and which earlier values it replaced."""

    layer: str
    pos: Pos
    overridden: tuple[tuple[str, Pos], ...] = ()

    def to_json(self) -> dict:
        return {"layer": self.layer, "source": self.pos.to_json(),
                "overrides": [{"layer": layer, "source": pos.to_json()} for layer, pos in self.overridden]}


@record
class CompiledJob:
    """One compiled target: the Job manifest and, for every JSON pointer in it, its origin."""

    target: str
    manifest: dict
    provenance: Mapping[str, ValueOrigin]  # a lazy Provenance mapping when rendered by podc
    sources: tuple[str, ...] = ()  # files that contributed, in layer order
    key_pos: dict[str, Pos] = field(default_factory=dict)  # pointer -> where its map key is written

    def locate(self, pointer: str) -> ValueOrigin | None:
        """The origin of ``pointer``, or of its nearest ancestor that has one."""
        p = pointer
        while True:
            hit = self.provenance.get(p)
            if hit is not None or not p:
                return hit
            p = p[: p.rfind("/")]

    def pos(self, pointer: str) -> Pos:
        hit = self.locate(pointer)
        return hit.pos if hit else Pos()
