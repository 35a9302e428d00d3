"""TAP_UPLOAD (TAP 1.1 §2.7.6): not supported yet, so none is declared in the capabilities."""

METHODS: tuple[str, ...] = ()
