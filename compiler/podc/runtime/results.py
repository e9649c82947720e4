"""What runtime calls raise and return besides :class:`~podc.runtime.tracker.JobState`."""

from __future__ import annotations

__all__ = ["RunCancelled", "JobConflict", "CancelResult"]


class RunCancelled(Exception):
    """The run was cancelled; no further Jobs are submitted."""


class JobConflict(Exception):
    """A Job with the deterministic name exists but belongs to another run or step."""


class CancelResult:
    """What a cancellation left behind (``clean``: nothing) and what it removed (Job and Pod
    names seen deleted, when known)."""

    def __init__(self, jobs_left: int, pods_left: int, jobs_deleted: tuple[str, ...] = (),
                 pods_deleted: tuple[str, ...] = ()) -> None:
        self.jobs_left, self.pods_left = jobs_left, pods_left
        self.jobs_deleted, self.pods_deleted = tuple(jobs_deleted), tuple(pods_deleted)

    @property
    def clean(self) -> bool:
        return self.jobs_left == 0 and self.pods_left == 0

    def __repr__(self) -> str:
        return (f"CancelResult(jobs_left={self.jobs_left}, pods_left={self.pods_left}, "
                f"jobs_deleted={len(self.jobs_deleted)}, pods_deleted={len(self.pods_deleted)})")
