"""Every bound on a wait, a retry or a size, in one place (README "Bounds" lists them with what a user sees).

A value used in `manifest.yaml` too (timeouts, tries) is checked against the constant here by unit_tests/test_bounds.py,
so the two never drift apart. The longest silence any of these allows stays below metadata.yaml's
`maxSecondsBetweenMessages` (checked there too).
"""

# --- Answers that say "wait" (429) -----------------------------------------------------------------------------------
# The longest a single Retry-After is believed. Iterable's limits are per second or per minute, so after a minute the
# window has freed whatever the limit; a longer (or missing, or nonsense) value waits this long and asks again.
RETRY_AFTER_CAP_SECONDS = 60.0
# Attempts of one request answered 429 in a row before its stream fails (5 waits of at most a minute).
RATE_LIMITED_TRIES = 6

# --- Answers that fail (5xx, dropped or refused connection, timeout) ---------------------------------------------------
# Attempts of one request (REST page, job-API call, metrics batch) before its stream fails; REST: manifest max_retries + 1.
REQUEST_TRIES = 6
# Backoff before the n-th retry: FIRST × 2^(n−1), at most CAP.
BACKOFF_FIRST_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 30.0
# Attempts of one export/data.json window before it is split (or, at the smallest window, the range fails).
EXPORT_WINDOW_TRIES = 3

# --- Silence on one connection ---------------------------------------------------------------------------------------
REST_CONNECT_TIMEOUT_SECONDS = 20
REST_READ_TIMEOUT_SECONDS = 60
EXPORT_CONNECT_TIMEOUT_SECONDS = 30
# Silence allowed before an export body's first byte and between two reads (Iterable may think for minutes first).
EXPORT_READ_TIMEOUT_SECONDS = 240
JOB_API_TIMEOUT_SECONDS = (30.0, 120.0)
# The whole of one job-API answer (a few KB) may take this long; a body trickling past it counts as a failed call.
JOB_ANSWER_SECONDS = 120.0
FILE_TIMEOUT_SECONDS = (30.0, 120.0)
# One job file download may last FILE_GRACE_SECONDS plus its size at FILE_MIN_BYTES_PER_SECOND (a body trickling
# slower than that is cut and read again, then the job counts as failed); Iterable's files are at most 10 MB.
FILE_GRACE_SECONDS = 60.0
FILE_MIN_BYTES_PER_SECOND = 32 * 1024
FILE_MAX_BYTES = 64 * 1024 * 1024  # the size assumed when a file's answer does not say its Content-Length

# --- Progress ---------------------------------------------------------------------------------------------------------
# An export range that makes no progress (no new record, no window completed, no listing that moved forward) for this
# long, throttle waits excluded, ends: a job range then falls back to export/data.json, a data.json range fails.
NO_PROGRESS_SECONDS = 300.0
# A job still Enqueued/Running with no new file for this long is given up (Iterable queues at most 4 running jobs per
# organisation; a job queued behind other clients' jobs can wait long): its range is read with export/data.json.
JOB_QUEUED_SECONDS = 3600.0
# A job waiting in one state says so this often, so a sync is never silent past maxSecondsBetweenMessages.
STILL_WAITING_EVERY_SECONDS = 600.0
JOB_FIRST_POLL_SECONDS = 2.0
JOB_MAX_POLL_SECONDS = 30.0
# Failed (or vanished) jobs of one range before the range falls back to export/data.json.
JOB_TRIES = 3
# Reads of one job file (expired URL, body cut, not JSONL) before the job counts as failed.
FILE_TRIES = 4
# On SIGTERM/SIGINT: how long to wait for an export/start in flight to return the id to cancel.
START_WAIT_SECONDS = 10.0

# --- Sizes -----------------------------------------------------------------------------------------------------------
# A job-API answer larger than this is not Iterable's (they are a few KB).
MAX_JOB_ANSWER_BYTES = 4 << 20
# The longest record line the console script writes. A longer one fails its stream naming the stream and the size;
# memory stays below about 3 × this per reading thread (the line's bytes, its decoded object, its serialised form).
MAX_RECORD_LINE_BYTES = 256 << 20
# Record lines collected before one write to stdout.
BATCH_BYTES = 1 << 20
# Characters of an unexpected answer quoted in an error message (escaped, key masked).
EXCERPT_CHARS = 120
