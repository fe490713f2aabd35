"""Custom components the manifest names as `source_iterable.components.<Class>`.

Each lives in a module named for its job and is re-exported here, so the manifest never depends on file layout.
"""

from source_iterable.components.api_key_auth import NoRedirectApiKeyAuthenticator
from source_iterable.components.campaign_metrics import CampaignMetricsRetriever
from source_iterable.components.config_validation import ApiBaseUrlValidation, DateRangeValidation, UtcDateValidation
from source_iterable.components.connection_probe import ConnectionProbes
from source_iterable.components.event_id import EventIdAdder
from source_iterable.components.event_names import EventNameFilter
from source_iterable.components.export_window import ExportWindowRetriever
from source_iterable.components.field_map import FieldMapExtractor
from source_iterable.components.future_cursor import FutureCursorAsNow
from source_iterable.components.json_fields import JsonStringFieldParser
from source_iterable.components.labelled_lists import LabelledListsExtractor
from source_iterable.components.next_page import NextPageCursor
from source_iterable.components.open_campaigns import OpenCampaignsRetriever
from source_iterable.components.policy_backoff import PolicyBackoff
from source_iterable.components.renaming import CaseCollisionRenamer
from source_iterable.components.rest_body import StrictRecordsExtractor
from source_iterable.components.rest_errors import RestErrorHandler
from source_iterable.components.template_content import (
    TemplateContentExtractor,
    TemplateContentRetriever,
    TemplateContentRouter,
)
from source_iterable.components.timestamps import TimestampFields, TimestampNormalizer
from source_iterable.components.user_fields import UserFieldsSchemaLoader
from source_iterable.export.jsonl import StrictJsonlDecoder

__all__ = [
    "ApiBaseUrlValidation",
    "CampaignMetricsRetriever",
    "CaseCollisionRenamer",
    "ConnectionProbes",
    "DateRangeValidation",
    "EventIdAdder",
    "EventNameFilter",
    "ExportWindowRetriever",
    "FieldMapExtractor",
    "FutureCursorAsNow",
    "JsonStringFieldParser",
    "LabelledListsExtractor",
    "NextPageCursor",
    "NoRedirectApiKeyAuthenticator",
    "OpenCampaignsRetriever",
    "PolicyBackoff",
    "RestErrorHandler",
    "StrictJsonlDecoder",
    "StrictRecordsExtractor",
    "TemplateContentExtractor",
    "TemplateContentRetriever",
    "TemplateContentRouter",
    "TimestampFields",
    "TimestampNormalizer",
    "UserFieldsSchemaLoader",
    "UtcDateValidation",
]
