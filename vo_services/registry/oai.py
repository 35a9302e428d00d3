"""The OAI-PMH 2.0 protocol over the registry's records (OAI-PMH 2.0, Registry Interfaces 1.1 §2).

:func:`respond` takes the request's arguments and answers with the whole XML document; every
protocol error is an ``<error code=...>`` in an HTTP 200 answer (OAI-PMH 2.0 §3.6).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lxml import etree

from archive.config import Settings
from vo_services.registry.records import RI, Record
from vo_services.registry.state import Entry, datestamp, synchronise, version

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: Registry Interfaces 1.1 §2.3: ivo_vor is VOResource; OAI-PMH 2.0 §3.4 requires oai_dc too.
FORMATS = {
    "ivo_vor": (RI, "http://www.ivoa.net/xml/RegistryInterface/v1.0"),
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
}
#: Registry Interfaces 1.1 §2.4: the one set a publishing registry must have.
MANAGED_SET = "ivo_managed"

# OAI-PMH 2.0 §4: each verb's required and optional arguments; a resumptionToken is exclusive.
VERBS: dict[str, tuple[set[str], set[str]]] = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


class OAIError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ListQuery:
    verb: str
    prefix: str
    set: str | None
    start: datetime | None
    end: datetime | None
    offset: int = 0

    def token(self, stamp: str, offset: int) -> str:
        """Opaque to harvesters: the query, where the next page starts, and the record set's
        version, so that a token outlives no change of the records (OAI-PMH 2.0 §3.5)."""
        data = {"v": self.verb, "p": self.prefix, "s": self.set, "o": offset, "c": stamp,
                "f": self.start.isoformat() if self.start else None,
                "u": self.end.isoformat() if self.end else None}
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def from_token(cls, verb: str, token: str, stamp: str) -> ListQuery:
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            query = cls(data["v"], data["p"], data["s"],
                        datetime.fromisoformat(data["f"]) if data["f"] else None,
                        datetime.fromisoformat(data["u"]) if data["u"] else None, int(data["o"]))
            current = data["c"] == stamp
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            raise OAIError("badResumptionToken", "this resumptionToken is not one this registry issued")
        if query.verb != verb:
            raise OAIError("badResumptionToken", f"this resumptionToken continues {query.verb}, not {verb}")
        if not current:
            raise OAIError("badResumptionToken", "the records changed since this resumptionToken was "
                                                 "issued; start the harvest again")
        return query


def _time(value: str, upper: bool) -> tuple[datetime, str]:
    """An OAI UTCdatetime (§3.3.1) and its granularity; a day alone spans all of it."""
    if _SECOND.fullmatch(value):
        fmt, granularity = "%Y-%m-%dT%H:%M:%SZ", "second"
    elif _DAY.fullmatch(value):
        fmt, granularity = "%Y-%m-%d", "day"
    else:
        raise OAIError("badArgument", f"'{value}' is not YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")
    try:
        moment = datetime.strptime(value, fmt).replace(tzinfo=timezone.utc)
    except ValueError:
        raise OAIError("badArgument", f"'{value}' is not a valid date")
    if upper:
        moment += timedelta(days=1, microseconds=-1) if granularity == "day" else timedelta(microseconds=999_999)
    return moment, granularity


def _arguments(params: Iterable[tuple[str, list[str]]]) -> tuple[str | None, dict[str, str]]:
    verb: str | None = None
    args: dict[str, str] = {}
    errors: list[OAIError] = []
    for name, values in params:
        if name == "verb":
            if len(values) != 1:
                raise OAIError("badVerb", "the verb is repeated")
            verb = values[0]
            continue
        if len(values) != 1:  # OAI-PMH 2.0 §3.1.1: an argument may not be repeated
            errors.append(OAIError("badArgument", f"the argument {name} is repeated"))
        args[name] = values[0]
    if verb is None:
        raise OAIError("badVerb", "the verb argument is missing")
    if verb not in VERBS:
        raise OAIError("badVerb", f"'{verb}' is not an OAI-PMH verb")
    if errors:
        raise errors[0]
    required, optional = VERBS[verb]
    unknown = set(args) - required - optional
    if unknown:
        raise OAIError("badArgument", f"{verb} takes no argument {', '.join(sorted(unknown))}")
    if "resumptionToken" in args:
        if set(args) != {"resumptionToken"}:
            raise OAIError("badArgument", "resumptionToken is an exclusive argument")
    elif required - set(args):
        raise OAIError("badArgument", f"{verb} needs {', '.join(sorted(required - set(args)))}")
    return verb, args


class Response:
    """The OAI-PMH document being built (OAI-PMH 2.0 §3.2)."""

    def __init__(self, base_url: str, verb: str | None, args: dict[str, str] | None):
        # A prefix, not the default namespace: the records' unqualified elements (VOResource)
        # sit inside, and lxml would not undeclare a default namespace for them.
        self.root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={"oai": OAI, "xsi": XSI})
        self.root.set(f"{{{XSI}}}schemaLocation", f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
        etree.SubElement(self.root, f"{{{OAI}}}responseDate").text = datestamp(datetime.now(timezone.utc))
        request = etree.SubElement(self.root, f"{{{OAI}}}request")
        request.text = base_url
        # §3.2: the request's arguments are echoed unless the error is badVerb or badArgument.
        if verb is not None and args is not None:
            request.set("verb", verb)
            for name, value in args.items():
                request.set(name, value)

    def add(self, tag: str, text: str | None = None, parent=None, **attrs: str) -> etree._Element:
        element = etree.SubElement(self.root if parent is None else parent, f"{{{OAI}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    def bytes(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")


def _header(response: Response, parent, entry: Entry) -> None:
    header = response.add("header", parent=parent, **({"status": "deleted"} if entry.deleted else {}))
    response.add("identifier", entry.identifier, parent=header)  # RofR: the VOResource identifier
    response.add("datestamp", datestamp(entry.updated), parent=header)
    response.add("setSpec", MANAGED_SET, parent=header)


def _metadata(response: Response, parent, entry: Entry, prefix: str) -> None:
    _header(response, parent, entry)
    if entry.deleted:
        return  # OAI-PMH 2.0 §2.5.1: a deleted record has a header only
    metadata = response.add("metadata", parent=parent)
    if prefix == "ivo_vor":
        metadata.append(entry.record.stamped(datestamp(entry.created), datestamp(entry.updated)))
    else:
        metadata.append(_dublin_core(entry))


def _dublin_core(entry: Entry) -> etree._Element:
    """The oai_dc rendering of a record: Dublin Core's view of the same VOResource fields."""
    record: Record = entry.record
    source = record.element
    dc = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    dc.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")

    def add(tag: str, text: str | None) -> None:
        if text:
            etree.SubElement(dc, f"{{{DC}}}{tag}").text = text

    add("title", record.title)
    add("identifier", record.identifier)
    add("publisher", source.findtext("curation/publisher"))
    for subject in source.findall("content/subject"):
        add("subject", subject.text)
    add("description", source.findtext("content/description"))
    add("type", source.findtext("content/type"))
    add("date", datestamp(entry.updated))
    add("rights", source.findtext("rights"))
    return dc


def _identify(response: Response, entries: list[Entry], settings: Settings) -> None:
    identify = response.add("Identify")
    response.add("repositoryName", "Lick Observatory archive publishing registry", identify)
    response.add("baseURL", f"{settings.public_url}/oai", identify)
    response.add("protocolVersion", "2.0", identify)
    response.add("adminEmail", settings.registry.contact_email, identify)
    response.add("earliestDatestamp", datestamp(min(e.created for e in entries)), identify)
    response.add("deletedRecord", "persistent", identify)
    response.add("granularity", "YYYY-MM-DDThh:mm:ssZ", identify)
    # Registry Interfaces 1.1 §2.2 (and the RofR): Identify carries the vg:Registry record.
    registry = next(e for e in entries if e.record and e.record.resource_type == "vg:Registry")
    description = response.add("description", parent=identify)
    description.append(registry.record.stamped(datestamp(registry.created), datestamp(registry.updated)))


def _list_query(verb: str, args: dict[str, str], stamp: str) -> ListQuery:
    if "resumptionToken" in args:
        return ListQuery.from_token(verb, args["resumptionToken"], stamp)
    start = end = None
    granularities = set()
    if "from" in args:
        start, g = _time(args["from"], upper=False)
        granularities.add(g)
    if "until" in args:
        end, g = _time(args["until"], upper=True)
        granularities.add(g)
    if len(granularities) > 1:
        raise OAIError("badArgument", "from and until must have the same granularity")
    if start and end and start > end:
        raise OAIError("badArgument", "from is later than until")
    return ListQuery(verb, args["metadataPrefix"], args.get("set"), start, end)


def _check_prefix(prefix: str) -> None:
    if prefix not in FORMATS:
        raise OAIError("cannotDisseminateFormat", f"'{prefix}' is not served here; use ivo_vor or oai_dc")


def _list(response: Response, verb: str, args: dict[str, str], entries: list[Entry], page_size: int) -> None:
    stamp = version(entries)
    query = _list_query(verb, args, stamp)
    _check_prefix(query.prefix)
    if query.set is not None and query.set != MANAGED_SET:
        raise OAIError("noRecordsMatch", f"there is no set '{query.set}' here; the one set is {MANAGED_SET}")
    # Datestamps are to the second: compare at that granularity.
    matching = [e for e in sorted(entries, key=lambda e: (e.updated, e.identifier))
                if (query.start is None or e.updated.replace(microsecond=0) >= query.start)
                and (query.end is None or e.updated.replace(microsecond=0) <= query.end)]
    if not matching:
        raise OAIError("noRecordsMatch", "no record matches these arguments")
    page = matching[query.offset:query.offset + page_size]
    if not page:
        raise OAIError("badResumptionToken", "this resumptionToken is past the end of the list")
    container = response.add(verb)
    for entry in page:
        if verb == "ListIdentifiers":
            _header(response, container, entry)
        else:
            _metadata(response, response.add("record", parent=container), entry, query.prefix)
    following = query.offset + len(page)
    if following < len(matching) or query.offset:
        # §3.5: the last page carries an empty token; cursor and completeListSize help harvesters.
        response.add("resumptionToken", query.token(stamp, following) if following < len(matching) else None,
                     container, completeListSize=str(len(matching)), cursor=str(query.offset))


def _find(entries: list[Entry], identifier: str) -> Entry:
    for entry in entries:
        if entry.identifier == identifier:
            return entry
    raise OAIError("idDoesNotExist", f"there is no record {identifier} in this registry")


def respond(params: Iterable[tuple[str, list[str]]], settings: Settings) -> bytes:
    """The answer to one OAI-PMH request with these (name, values) arguments."""
    base_url = f"{settings.public_url}/oai"
    try:
        verb, args = _arguments(params)
    except OAIError as error:
        response = Response(base_url, None, None)
        response.add("error", str(error), code=error.code)
        return response.bytes()
    response = Response(base_url, verb, args)
    try:
        entries = synchronise(settings)
        if verb == "Identify":
            _identify(response, entries, settings)
        elif verb == "ListMetadataFormats":
            if "identifier" in args:
                _find(entries, args["identifier"])  # every record is in both formats
            formats = response.add("ListMetadataFormats")
            for prefix, (schema, namespace) in FORMATS.items():
                fmt = response.add("metadataFormat", parent=formats)
                response.add("metadataPrefix", prefix, fmt)
                response.add("schema", schema, fmt)
                response.add("metadataNamespace", namespace, fmt)
        elif verb == "ListSets":
            if "resumptionToken" in args:
                raise OAIError("badResumptionToken", "ListSets is answered whole; there is no token to resume")
            sets = response.add("ListSets")
            managed = response.add("set", parent=sets)
            response.add("setSpec", MANAGED_SET, managed)
            response.add("setName", "Resources managed by this registry", managed)
        elif verb == "GetRecord":
            _check_prefix(args["metadataPrefix"])
            entry = _find(entries, args["identifier"])
            _metadata(response, response.add("record", parent=response.add("GetRecord")), entry,
                      args["metadataPrefix"])
        else:
            _list(response, verb, args, entries, settings.registry.max_records)
    except OAIError as error:
        echoed = error.code not in ("badVerb", "badArgument")
        response = Response(base_url, verb if echoed else None, args if echoed else None)
        response.add("error", str(error), code=error.code)
    return response.bytes()
