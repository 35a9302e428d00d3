"""The TAP service's VOSI capabilities (VOSI 1.1 §3.1, TAP 1.1 §2.4, TAPRegExt 1.0).

Everything declared here is read from the code that implements it: output formats from the
format registry, limits from :mod:`vo_services.limits` (those every service shares) and
:mod:`vo_services.tap.limits` (uploads), ADQL features and user-defined functions from the
translator. What is declared is exactly what works.
"""
from __future__ import annotations

from vo_models.tapregext.models import (
    DataLimit, DataLimits, DataModelType, Language, LanguageFeature, LanguageFeatureList,
    OutputFormat, TableAccess, TimeLimits, UploadMethod, Version,
)
from vo_models.voresource.models import AccessURL, Capability, Interface, SecurityMethod, WebBrowser
from vo_models.vosi.capabilities.models import VOSICapabilities

from archive.standards import VOSI_AVAILABILITY, VOSI_CAPABILITIES
from vo_services.accounts.challenges import INTERFACE_SECURITY_METHODS
from vo_services import limits
from vo_services.tap import limits as tap_limits

# vo-models drops an attribute-less element when writing with skip_empty; this placeholder
# stands for the bare <securityMethod/> of anonymous use and is removed from the output.
_ANONYMOUS = "urn:lick:anonymous"
from vo_services.encoders import output_formats


def _param_http(url: str, use: str = "full", role: str | None = None, version: str | None = None,
                secured: bool = False):
    methods = [SecurityMethod(standard_id=m or _ANONYMOUS) for m in INTERFACE_SECURITY_METHODS] if secured else None
    return Interface(type="vs:ParamHTTP", role=role, version=version,
                     access_url=[AccessURL(value=url, use=use)], security_method=methods)


def _features() -> list[LanguageFeatureList]:
    from vo_services.tap.adql import language_features

    return [LanguageFeatureList(type=kind, feature=[LanguageFeature(form=form, description=description)
                                                    for form, description in features])
            for kind, features in language_features().items()]


def tap_capability(base: str) -> TableAccess:
    return TableAccess(
        interface=[_param_http(base, use="base", role="std", version="1.1", secured=True)],
        # ObsCore 1.1 §3: ivoa.obscore has every mandatory column.
        data_model=[DataModelType(value="ObsCore-1.1", ivo_id="ivo://ivoa.net/std/ObsCore#core-1.1")],
        language=[Language(
            name="ADQL",
            version=[Version(value="2.1", ivo_id="ivo://ivoa.net/std/ADQL#v2.1"),
                     Version(value="2.0", ivo_id="ivo://ivoa.net/std/ADQL#v2.0")],
            description="ADQL 2.1, translated to PostgreSQL with pgsphere",
            language_features=_features(),
        )],
        output_format=[OutputFormat(mime=f["mime"], alias=f["aliases"], ivo_id=f["ivo_id"])
                       for f in output_formats()],
        upload_method=[UploadMethod(ivo_id=f"ivo://ivoa.net/std/TAPRegExt#{m}") for m in upload_methods()],
        retention_period=TimeLimits(default=limits.RETENTION_S.default, hard=limits.RETENTION_S.hard),
        execution_duration=TimeLimits(default=limits.ASYNC_EXECUTION_S.default,
                                      hard=limits.ASYNC_EXECUTION_S.hard),
        output_limit=DataLimits(default=DataLimit(value=limits.OUTPUT_ROWS.default, unit="row"),
                                hard=DataLimit(value=limits.OUTPUT_ROWS.hard, unit="row")),
        upload_limit=DataLimits(default=DataLimit(value=tap_limits.UPLOAD_BYTES.default, unit="byte"),
                                hard=DataLimit(value=tap_limits.UPLOAD_BYTES.hard, unit="byte"))
        if upload_methods() else None,
    )


def upload_methods() -> list[str]:
    """TAPRegExt §2.5 upload methods (taplint wants inline and http whenever any is declared)."""
    from vo_services.tap import uploads

    return list(uploads.METHODS)


def capabilities_xml(base: str) -> bytes:
    document = VOSICapabilities(capability=[
        tap_capability(base),
        Capability(standard_id=VOSI_CAPABILITIES, interface=[_param_http(f"{base}/capabilities")]),
        Capability(standard_id=VOSI_AVAILABILITY, interface=[_param_http(f"{base}/availability")]),
        Capability(standard_id="ivo://ivoa.net/std/VOSI#tables-1.1",
                   interface=[_param_http(f"{base}/tables", use="base", version="1.1")]),
        Capability(standard_id="ivo://ivoa.net/std/DALI#examples",
                   interface=[WebBrowser(access_url=[AccessURL(value=f"{base}/examples", use="full")])]),
    ])
    # skip_empty: vo-models writes unset optional attributes (xsi:type, role) as "", which the
    # VOResource schema rejects; nothing in a capabilities document is nillable.
    xml = document.to_xml(encoding="UTF-8", xml_declaration=True, skip_empty=True)
    return xml.replace(f' standardID="{_ANONYMOUS}"'.encode(), b"")
