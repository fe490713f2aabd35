"""A job's state and one listing of its files, as Iterable's `GET export/{jobId}/files` answers them."""

import enum
from dataclasses import dataclass
from typing import Any


class JobState(enum.Enum):
    """The definition lists Enqueued, Running, Completed and Failed; lowercase forms and cancelling/cancelled are
    reported in the wild, and a running job can return to Enqueued. Anything else is `OTHER` (polled on)."""

    ENQUEUED = "enqueued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    OTHER = "other"

    @classmethod
    def of(cls, text: str) -> "JobState":
        name = text.strip().lower()
        if name == "canceled":
            return cls.CANCELLED
        return next((state for state in cls if state.value == name), cls.OTHER)

    @property
    def ended_without_data(self) -> bool:
        """Iterable will add no file: the job failed or was cancelled (by someone else)."""
        return self in (JobState.FAILED, JobState.CANCELLING, JobState.CANCELLED)


@dataclass(frozen=True)
class JobFile:
    name: str
    url: str


@dataclass(frozen=True)
class JobListing:
    """One `GET export/{jobId}/files` answer, validated: every byte of it is untrusted.

    `state_text` is Iterable's own word for the state (as logged); `state` what the reader makes of it."""

    state_text: str
    truncated: bool
    files: tuple[JobFile, ...]

    @property
    def state(self) -> JobState:
        return JobState.of(self.state_text)

    @classmethod
    def parse(cls, body: Any) -> "JobListing":
        if not isinstance(body, dict) or not isinstance(body.get("jobState"), str):
            raise ValueError("no jobState")
        raw_files = body.get("files") or []
        if not isinstance(raw_files, list):
            raise ValueError("files is not a list")
        files = []
        for entry in raw_files:
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("file"), str)
                or not isinstance(entry.get("url"), str)
            ):
                raise ValueError("a file entry without file and url")
            files.append(JobFile(entry["file"], entry["url"]))
        return cls(
            state_text=body["jobState"].lower(), truncated=body.get("exportTruncated") is True, files=tuple(files)
        )
