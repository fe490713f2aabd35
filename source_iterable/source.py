"""The connector: Iterable's API described by `manifest.yaml`, run by the CDK's declarative engine."""

from importlib import resources
from pathlib import Path
from typing import Any, List, Mapping, Optional

import yaml
from airbyte_cdk.models import AirbyteStateMessage, ConfiguredAirbyteCatalog
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

MANIFEST_NAME = "manifest.yaml"


def load_manifest() -> dict[str, Any]:
    """Read the manifest shipped inside the wheel, or the repository's top-level one in a source checkout."""
    packaged = resources.files("source_iterable") / MANIFEST_NAME
    if packaged.is_file():
        text = packaged.read_text(encoding="utf-8")
    else:
        text = (Path(__file__).resolve().parent.parent / MANIFEST_NAME).read_text(encoding="utf-8")
    manifest: dict[str, Any] = yaml.safe_load(text)
    return manifest


class SourceIterable(ConcurrentDeclarativeSource):
    """Iterable source. Everything it does is in the manifest; this class only loads it by absolute path."""

    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(catalog=catalog, config=config, state=state, source_config=load_manifest(), **kwargs)
