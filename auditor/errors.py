"""The error a user's mistake becomes: one line naming the file, flag, resource or field (exit 2)."""


class InputError(ValueError):
    """A problem with user input; the message is one line and names what is wrong."""


class InvalidValue(InputError):
    """A field of one resource holds a value the rules cannot read: `<id>: <field>: <problem>`.
    The parts stay apart so a reader can place them (a file and item, or a subscription)."""

    def __init__(self, resource_id: str, field: str, problem: str):
        super().__init__(f"{resource_id}: {field}: {problem}")
        self.resource_id, self.field, self.problem = resource_id, field, problem
