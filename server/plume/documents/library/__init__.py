"""The template library: every letter model the server offers, prepared once and kept current.

Two sources: the repo's `templates/<id>/` and uploaded versions in `<data>/templates/<id>/v<N>/`;
the newest uploaded version of an id wins over the repo copy. One module per concern:
- `service`: `TemplateLibrary`, the object the server holds; each call goes to one of these:
- `catalog`: what is served (descriptions, prepared models) and the library's lock — what it
  guards is written there;
- `store`: versions on disk, checking and adding an upload (never overwriting one);
- `reload`: noticing changes on disk and preparing models in a separate process;
- `render`: filling a letter, in its language, with its file name;
- and `plume.documents.pdf`: the PDF conversion.

Everything other modules import is importable from here.
"""

from plume.documents import FormatUnavailable
from plume.documents.base import RenderFailed
from plume.documents.library.catalog import FieldInfo, TemplateInfo, TemplateNotFound, TemplateVersion
from plume.documents.library.render import WARNING_HEADER, Format, RenderedDocument, ascii_filename
from plume.documents.library.service import TemplateLibrary
from plume.documents.library.store import NoSpaceLeft, UploadNotAModel, UploadRefused, UploadTooLarge
from plume.documents.pdf import PdfRefused, PdfUnavailable
from plume.documents.values import FieldErrors

__all__ = ["TemplateLibrary", "TemplateInfo", "FieldInfo", "RenderedDocument", "TemplateVersion",
           "TemplateNotFound", "FieldErrors", "FormatUnavailable", "PdfUnavailable", "PdfRefused", "UploadRefused", "UploadTooLarge",
           "UploadNotAModel", "NoSpaceLeft", "RenderFailed", "Format", "WARNING_HEADER", "ascii_filename"]
