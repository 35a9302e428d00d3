"""The coverage endpoints: ``/coverage`` (the stored MOCs, in FITS, ASCII or JSON) and
``/coverage/sky.png`` (the all-sky picture of the public archive), both read from
``lick.coverage`` as :mod:`archive.coverage.refresh` stored it."""
