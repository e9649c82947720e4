"""Merging canonical Job trees with per-field keys, directives and provenance."""

from podc.merge.merge import MODES, merge, merge_all

__all__ = ["merge", "merge_all", "MODES"]
