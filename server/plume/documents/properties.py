"""Document properties (title, subject, author, keywords, custom properties) filled like the body.

Word keeps them in `docProps/core.xml`, `app.xml` and `custom.xml`; LibreOffice in `meta.xml`. A
`{{ nom }}` in the title is shown on the page by a Title field, and in the file's properties: it is
rendered with the same sandbox and the same XML escaping as the body. Properties are plain text
elements, so a value's line break stays a plain newline there (no `<w:br/>`, no `<text:line-break/>`).
"""

from __future__ import annotations

PROPERTIES = "propriétés du document"
DOCX_PROPERTIES = {
    "application/vnd.openxmlformats-package.core-properties+xml",
    "application/vnd.openxmlformats-officedocument.extended-properties+xml",
    "application/vnd.openxmlformats-officedocument.custom-properties+xml",
}
ODT_PROPERTIES = "meta.xml"


def properties_post(xml: str) -> str:
    # The .odt environment turns a value's newline into markup meant for paragraphs: undo it here.
    return xml.replace("<text:line-break/>", "\n").replace("<text:tab/>", "\t")
