"""SODA 1.0 sync cutouts of image frames (``/soda/sync``)."""
