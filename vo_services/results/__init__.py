"""The result engine: users' queries run as the caller and streamed encoded, for every service.

The hottest path in the system. Services call its one entry point,
:func:`vo_services.results.engine.run_result` (SQL, columns, encoder, the caller's principals,
:class:`~vo_services.results.engine.ResultLimits`); its modules are what it is made of:

- :mod:`~vo_services.results.query`: the query role's read-only, time-limited session with the
  caller's signed principals (``query_session`` for any read; ``ResultCursor`` for results, in
  one round trip);
- :mod:`~vo_services.results.connections`: the per-process pools of result connections;
- :mod:`~vo_services.results.statements`: prepared statements, planned once per connection;
- :mod:`~vo_services.results.fetchahead`: the next batch fetched while this one is encoded;
- :mod:`~vo_services.results.copyout`: large BINARY2 results read by binary COPY, for the
  encoder to transcode without Python rows (:mod:`vo_services.encoders.pgcopy`);
- :mod:`~vo_services.results.responses`: the streaming WSGI body and its clean-up.

The encoders it streams through are :mod:`vo_services.encoders`; the limits it enforces,
:mod:`vo_services.limits`.
"""
