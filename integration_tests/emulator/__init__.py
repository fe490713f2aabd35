"""A local Iterable: the project's emulator of Iterable's REST and export API (standard library only).

    from integration_tests.emulator import Emulator, Dataset, faults
    with Emulator(Dataset(seed=7), rate_limits={}) as emu:
        emu.url, emu.api_key, emu.read_only_key, emu.requests
        emu.inject(faults.error_500(match={"dataTypeName": "emailSend"}))
"""

from . import faults
from .dataset import EXPORT_END, EXPORT_START, Dataset
from .server import REAL_RATE_LIMITS, Emulator, LoggedRequest

__all__ = ["EXPORT_END", "EXPORT_START", "REAL_RATE_LIMITS", "Dataset", "Emulator", "LoggedRequest", "faults"]
