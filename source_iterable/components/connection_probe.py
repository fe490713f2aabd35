"""`check`: the manifest's probe requests, each of which must succeed for the connection to pass."""

from collections.abc import Sequence
from dataclasses import dataclass

from airbyte_cdk.models import AirbyteConnectionStatus, Status
from airbyte_cdk.sources.declarative.requesters import HttpRequester
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


@dataclass
class ConnectionProbes:
    """Send each probe once, in order; the first refusal fails the check with its error handler's message.

    Not CheckStream: it reads a stream through the stream's own error handler, which skips a 401 (so a wrong key
    would pass), it cannot try the export API without an export stream in the catalog, and it reports failures
    as the Python repr of a message. The probes' requests, error handlers and messages live in the manifest
    (`definitions.check_probes`); this class only runs them.
    """

    probes: Sequence[HttpRequester]

    def run(self) -> AirbyteConnectionStatus:
        for probe in self.probes:
            try:
                probe.send_request()
            except AirbyteTracedException as refusal:
                return AirbyteConnectionStatus(status=Status.FAILED, message=str(refusal))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)
