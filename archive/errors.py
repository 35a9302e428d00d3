"""Errors an admin can act on: each carries one line naming the problem and the fix."""


class AdminError(Exception):
    """A problem an admin can fix; its message says what and how."""
