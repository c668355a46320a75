"""The error a user's mistake becomes: one line naming the file, flag, resource or field (exit 2)."""

#: Whatever would break the line (str.splitlines), as Python escapes it.
_ESCAPED = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


class InputError(ValueError):
    """A problem with user input; the message is one line and names what is wrong. Line breaks
    in what it quotes from the input (a key, a value) are escaped, so it stays one line."""

    def __init__(self, message: object = "", *args: object):
        super().__init__(str(message).translate(_ESCAPED), *args)


class InvalidValue(InputError):
    """A field of one resource holds a value the rules cannot read: `<id>: <field>: <problem>`.
    The parts stay apart so a reader can place them (a file and item, or a subscription)."""

    def __init__(self, resource_id: str, field: str, problem: str):
        super().__init__(f"{resource_id}: {field}: {problem}")
        self.resource_id, self.field, self.problem = resource_id, field, problem

    def __reduce__(self):
        return type(self), (self.resource_id, self.field, self.problem)
