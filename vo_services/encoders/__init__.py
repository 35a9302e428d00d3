"""Result encoders: the VOTable writer (BINARY2, TABLEDATA), CSV, TSV, FITS, JSON and
Parquet.

Each encoder takes the result's columns (:class:`archive.columns.Column`) and an iterable of
row batches (lists of tuples, as ``cursor.fetchmany`` returns them) and yields ``bytes`` chunks
in bounded memory;
:func:`resolve` picks the encoder a RESPONSEFORMAT asks for.
"""
from vo_services.encoders.votable import write_votable
from vo_services.encoders.errors import error_document
from vo_services.encoders.formats import FORMATS, OutputFormat, UnknownFormat, output_formats, resolve

__all__ = ["FORMATS", "OutputFormat", "UnknownFormat", "error_document", "output_formats",
           "resolve", "write_votable"]
