"""Open311's two formats: JSON as built, XML by the Spark convention, escaped by ElementTree."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import SubElement
from xml.etree.ElementTree import tostring

from flask import Response

FORMATS = ("json", "xml")
CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
# A list is a container element whose items repeat one name (Spark convention).
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(element: Element, value: Any) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            _fill(SubElement(element, name), item)
    elif isinstance(value, list):
        item_name = ITEM_NAMES[element.tag]
        for item in value:
            _fill(SubElement(element, item_name), item)
    else:
        element.text = _text(value)


def to_xml(root: str, payload: dict[str, Any] | list[Any]) -> bytes:
    """Render ``payload`` under the element ``root``; ElementTree escapes the text."""
    element = Element(root)
    _fill(element, payload)
    return XML_DECLARATION + tostring(element, encoding="unicode").encode("utf-8")


def respond(
    fmt: str, root: str, payload: dict[str, Any] | list[Any], status: int = 200
) -> Response:
    """Answer in the format the URL asked for; ``root`` names the XML root element."""
    if fmt == "json":
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8", "replace")
    else:
        body = to_xml(root, payload)
    return Response(body, status=status, content_type=CONTENT_TYPES[fmt])
