"""A local Iterable: the project's emulator of Iterable's REST and export API (standard library only).

from integration_tests.emulator import Emulator, Dataset, faults
with Emulator(Dataset(seed=7), rate_limits={}) as emu:
    emu.url, emu.api_key, emu.read_only_key, emu.requests
    emu.inject(faults.error_500(match={"dataTypeName": "emailSend"}))
# Export jobs: POST /api/export/start, GET /api/export/{jobId}/files, DELETE /api/export/{jobId},
# GET /api/export/jobs; files on emu.file_host_url; emu.jobs(), emu.file_host_requests, emu.export_jobs.counters.
Emulator(dataset, export_jobs=ExportJobSettings(time_scale=0.01, file_bytes=4096))
"""

from . import faults
from .dataset import EXPORT_END, EXPORT_START, Dataset
from .file_host import FileHostRequest
from .handlers.jobs import ExportJobSettings, JobView
from .server import REAL_RATE_LIMITS, Emulator, LoggedRequest, scaled_rate_limits

__all__ = [
    "EXPORT_END",
    "EXPORT_START",
    "REAL_RATE_LIMITS",
    "Dataset",
    "Emulator",
    "ExportJobSettings",
    "FileHostRequest",
    "JobView",
    "LoggedRequest",
    "faults",
    "scaled_rate_limits",
]
