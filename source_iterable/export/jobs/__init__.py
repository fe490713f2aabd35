"""Iterable's asynchronous export API, split as the CDK splits its `async_job` package: the job's states
(status.py), one client for the job endpoints (client.py), the file downloads (files.py), the jobs this sync started
(tracker.py), and the reader of one range through jobs (reader.py). Which range goes to jobs, and what happens when
jobs give up on it, is decided above, in export/orchestrator.py."""
