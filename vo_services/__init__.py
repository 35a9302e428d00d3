"""The archive's VO web services (Django): TAP, cone search, DataLink and the shared VO pieces."""
