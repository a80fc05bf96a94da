"""The two failures an author raises on purpose. Any other exception becomes
the contract's `internal` error, which the host logs and counts."""


class PluginError(Exception):
    """The base of the failures the SDK maps to the contract's errors."""

    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)


class Rejected(PluginError):
    """A business rule refused the command, such as "insufficient funds".
    The caller sees the message as it is; nothing is written."""


class Invalid(PluginError):
    """Input the plugin cannot understand: a missing field, an unknown
    command or event type, a payload of the wrong shape."""
