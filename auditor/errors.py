"""The error a user's mistake becomes: one line naming the file, flag, resource or field (exit 2)."""


class InputError(ValueError):
    """A problem with user input; the message is one line and names what is wrong."""
