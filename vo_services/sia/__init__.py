"""Simple Image Access 2.0 (query-2.0) over ivoa.obscore."""
