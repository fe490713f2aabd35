"""A window of time `[start, end)` as Iterable's export endpoints take it, and the one rule that halves it."""

from datetime import UTC, datetime, timedelta

Window = tuple[datetime, datetime]
# startDateTime/endDateTime as Iterable documents them (no offset = UTC); endDateTime is exclusive.
REQUEST_FORMAT = "%Y-%m-%d %H:%M:%S"
# The export cursor's `datetime_format` in the manifest: slices arrive, and state is written, in this form.
SLICE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def describe(window: Window) -> str:
    """`[start, end)` in Iterable's request format, as every message names a window."""
    return f"[{window[0].strftime(REQUEST_FORMAT)}, {window[1].strftime(REQUEST_FORMAT)})"


def halves(window: Window, min_window: timedelta) -> tuple[Window, Window] | None:
    """The two halves of `window`, cut at a whole second, or None when a half would be shorter than `min_window`."""
    start, end = window
    if end - start < 2 * min_window:
        return None
    middle = start + timedelta(seconds=int((end - start).total_seconds()) // 2)
    return (start, middle), (middle, end)


def parse_slice_bound(value: str) -> datetime:
    """A cursor slice's bound (`SLICE_FORMAT`, UTC)."""
    return datetime.strptime(value, SLICE_FORMAT).replace(tzinfo=UTC)
