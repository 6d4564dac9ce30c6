"""The package's errors.

A :class:`UserError` is a problem with the user's input (a config value, a scenario
file, an override). The CLI prints its one-line message and exits with status 2,
without a traceback; everything else is a bug and keeps its traceback, among them
:class:`InvariantError` (the state of a run became inconsistent).
"""

from __future__ import annotations

__all__ = ["UserError", "ConfigError", "ScenarioError", "ScenarioErrors", "InvariantError"]


class UserError(Exception):
    """A problem with the user's input; the message is one line meant for a person."""


class ConfigError(UserError):
    """A config field has a wrong name, type or value.

    Parameters
    ----------
    path : str  dotted path of the field, e.g. ``hazards.drought.rain_cv``
    value : object  the offending value
    expected : str  what is allowed, e.g. ``a number in [0, 1]``
    """

    def __init__(self, path: str, value: object, expected: str, problem: str | None = None):
        self.path, self.value, self.expected = path, value, expected
        if problem is None:
            problem = f"got {value!r}"
        super().__init__(f"config field '{path}': {problem}; expected {expected}")


class ScenarioError(UserError):
    """A scenario file has a problem; the message names file, row and column."""

    def __init__(self, file: str, message: str, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column = file, row, column
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


class ScenarioErrors(ScenarioError):
    """Several problems in a scenario's files, all found in one reading.

    ``problems`` lists every :class:`ScenarioError`, in file and row order; ``file``,
    ``row`` and ``column`` are the first one's. The message has one line per problem.
    """

    def __init__(self, problems: list[ScenarioError]):
        if not problems:
            raise ValueError("no problems")
        self.problems = list(problems)
        first = self.problems[0]
        self.file, self.row, self.column = first.file, first.row, first.column
        n = len(self.problems)
        head = str(first) if n == 1 else f"{n} problems in the scenario files:\n" + "\n".join(f"  {e}" for e in self.problems)
        Exception.__init__(self, head)


class InvariantError(AssertionError):
    """A state invariant failed: a bug, not a user error (checked only in validating mode,
    ``build_engine(cfg, validate=True)``, after every month)."""
