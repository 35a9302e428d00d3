"""Users, API tokens and log-ins: who a caller of the VO services is."""
